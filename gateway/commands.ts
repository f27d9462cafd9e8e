import type { Logger } from 'pino';
import { formatStatus, readStatus } from './status.ts';

/** `hedgerow status` for the CLI; what each process runs is composed in pi-runtime.ts. */

/** `hedgerow status`: prints the outbox figures and the uplink's last state; returns the exit code. */
export function printStatus(outboxPath: string, log: Logger, write: (line: string) => void): number {
  try {
    for (const line of formatStatus(readStatus(outboxPath, log))) write(line);
    return 0;
  } catch (error) {
    write((error as Error).message);
    return 1;
  }
}
