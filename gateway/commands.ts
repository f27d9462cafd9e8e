import type { Logger } from 'pino';
import type { Extension } from '../device/extension.ts';
import type { Outbox } from './outbox.ts';
import { createBrokerExtension, createGatewayExtensions } from './gateway.ts';
import type { BrokerSettings, GatewaySettings } from './settings.ts';
import { formatStatus, readStatus } from './status.ts';

/**
 * Entry points for the `hedgerow` CLI's gateway commands. Process lifetime (signals, the outbox
 * handle) stays with the caller's runner; these only say what runs.
 */

/** `hedgerow gateway` / `hedgerow start`: the gateway extensions on an outbox the runner opened. */
export function gatewayExtensionsFor(
  settings: GatewaySettings,
  options: { log: Logger; dataDir: string; thing: string; broker: boolean },
): (outbox: Outbox) => Extension[] {
  return (outbox) => createGatewayExtensions(settings, { ...options, outbox });
}

/** `hedgerow broker`: the embedded broker alone until SIGINT or SIGTERM. */
export async function runBroker(settings: BrokerSettings, log: Logger): Promise<void> {
  const broker = createBrokerExtension(settings, log);
  await broker.start();
  try {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await broker.stop();
  }
}

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
