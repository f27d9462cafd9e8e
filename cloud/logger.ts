import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'pretty' | 'json';

/**
 * The process logger. `pretty` (the default) prints one short human line per event, which is what a
 * student watching `npm start` or `journalctl -u hedgerow` wants; `json` is for log shippers.
 * The pretty stream is synchronous: no worker thread, which matters on a 512 MB Pi Zero.
 */
export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const level = options.level ?? process.env.HEDGEROW_LOG_LEVEL ?? 'info';
  const format = options.format ?? (process.env.HEDGEROW_LOG_FORMAT === 'json' ? 'json' : 'pretty');
  if (format === 'json') return pino({ level });
  return pino(
    { level },
    pretty({
      sync: true,
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      singleLine: true,
    }),
  );
}
