/**
 * Long-lived parts of a process (the station sampler, the uplink, the broker, the cloud engine) are
 * extensions: the constructor only assigns fields, `start()` acquires resources, `stop()` releases them.
 * One controller per process starts them in order and stops them in reverse (see controller.ts).
 */
export interface Extension {
  /** Short name used in log lines, e.g. "station", "uplink". */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An extension whose real object can only be built at start (it needs files opened, a reader probed,
 * or a resource another extension opens first). The constructor stays free of work, as for any other.
 */
export function lazyExtension(name: string, create: () => Promise<Extension>): Extension {
  let inner: Extension | undefined;
  return {
    name,
    async start() {
      inner = await create();
      await inner.start();
    },
    async stop() {
      await inner?.stop();
      inner = undefined;
    },
  };
}
