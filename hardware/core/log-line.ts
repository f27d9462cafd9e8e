/**
 * How one log event reads on a pretty line: `part station: message (key value, ...)`. Only short scalar
 * fields are kept, as words after the message; objects and arrays are left to JSON logs (`--log-format
 * json`) and to debug, so an info line stays one short human line. An error shows its message, not its
 * stack.
 */

/** Fields pino and the line itself already show. */
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'part', 'station', 'err', 'error']);
/** Longer string fields are cut to this many characters. */
const MAX_VALUE_CHARS = 120;

export function formatLogLine(event: Record<string, unknown>, messageKey = 'msg'): string {
  const where = [event.part, event.station].filter((v): v is string => typeof v === 'string' && v !== '').join(' ');
  const message = typeof event[messageKey] === 'string' ? (event[messageKey] as string) : '';
  const error = errorMessage(event.err ?? event.error);
  const details: string[] = [];
  for (const [key, value] of Object.entries(event)) {
    if (SHOWN_ELSEWHERE.has(key) || key === messageKey) continue;
    if (typeof value === 'number' || typeof value === 'boolean') details.push(`${key} ${value}`);
    else if (typeof value === 'string') details.push(`${key} ${value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value}`);
  }
  let line = where ? `${where}: ${message}` : message;
  if (error && !line.includes(error)) line += line ? `: ${error}` : error;
  return details.length > 0 ? `${line} (${details.join(', ')})` : line;
}

function errorMessage(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? value : undefined;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
