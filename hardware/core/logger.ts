import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type Pretty from 'pino-pretty';
import { formatLogLine } from './log-line.ts';

/** pino-pretty and its dependencies are loaded only for pretty output: a JSON-logging process never holds them. */
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof Pretty;

export type LogFormat = 'pretty' | 'json';
/** pino's levels, most verbose first, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Levels at which pretty lines also carry each event's objects (the full error, lists of names). */
const DETAILED_LEVELS: readonly string[] = ['trace', 'debug'];

/**
 * The process logger. `pretty` (the default) prints one short human line per event (log-line.ts), which
 * is what a student watching `npm start` or `journalctl -u hedgerow` wants; `json` is for log shippers.
 * The pretty stream is synchronous: no worker thread, which matters on a 512 MB Pi Zero.
 */
export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  // An empty variable (HEDGEROW_LOG_LEVEL= in a unit file) means unset.
  const level = options.level ?? (process.env.HEDGEROW_LOG_LEVEL || 'info');
  const format = options.format ?? (process.env.HEDGEROW_LOG_FORMAT === 'json' ? 'json' : 'pretty');
  // pino's own message for an unknown level ("default level:loud must be included in custom levels") says nothing useful.
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`the log level "${level}" is not one of ${LOG_LEVELS.join(', ')}; use e.g. --log-level info (or HEDGEROW_LOG_LEVEL=info)`);
  }
  if (format === 'json') return pino({ level });
  const detailed = DETAILED_LEVELS.includes(level);
  return pino(
    { level },
    loadPretty()({
      sync: true,
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss',
      messageFormat: (event, messageKey) => formatLogLine(event, messageKey),
      // At debug, the fields the line leaves out follow it; at info and above they would be a JSON tail.
      hideObject: !detailed,
      ignore: 'pid,hostname,part,station',
      // pino-pretty ends a line only after its object, or when not single-line: without an object, that.
      singleLine: detailed,
    }),
  );
}
