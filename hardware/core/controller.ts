import type { Logger } from 'pino';
import type { Extension } from './extension.ts';

/**
 * Starts extensions in the order given and stops them in reverse, as Zigbee2MQTT's controller does.
 * A failing start stops what already started and rethrows: a half-started station is worse than a
 * clear error. A failing stop is logged and the rest still stop, so a stuck part never keeps the
 * others (the outbox file, the broker port) open.
 */
export class Controller {
  private readonly started: Extension[] = [];

  constructor(
    private readonly extensions: readonly Extension[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const extension of this.extensions) {
      try {
        await extension.start();
        this.started.push(extension);
      } catch (error) {
        this.log.error({ err: error }, `${extension.name} failed to start`);
        await this.stop();
        throw error;
      }
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const extension = this.started.pop()!;
      try {
        await extension.stop();
      } catch (error) {
        this.log.error({ err: error }, `${extension.name} failed to stop cleanly`);
      }
    }
  }
}

/**
 * Runs extensions until SIGINT or SIGTERM (Ctrl-C, systemd's stop), then stops them in reverse.
 * The hardware layer's timers do not hold the process open, so a keep-alive timer does, until the signal.
 */
export async function runUntilSignal(extensions: readonly Extension[], log: Logger, onStarted?: () => void): Promise<void> {
  const controller = new Controller(extensions, log);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await controller.start();
    onStarted?.();
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.info('stopping');
  } finally {
    await controller.stop();
    clearInterval(keepAlive);
  }
}
