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
