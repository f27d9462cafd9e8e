/**
 * What the drain loop needs from an MQTT client, so mqtt.js and aws-iot-device-sdk-v2 are
 * interchangeable. One session is one connection: it is never reconnected in place, so no client's
 * own offline queue can resend behind the outbox's back. The drain loop opens a new session after
 * a backoff instead.
 */
export interface UplinkSession {
  /** The broker's Receive Maximum (MQTT 5 CONNACK), when it sent one. */
  readonly receiveMaximum: number | undefined;
  /** Which protocol the session speaks, for log lines and status. */
  readonly protocol: string;
  /**
   * QoS 1 publish (a string payload is sent as UTF-8). Resolves on a successful PUBACK (reason codes below 0x80, 0x10 "no matching
   * subscribers" included); rejects on a failing PUBACK or when the connection goes. With `qos: 0` it resolves once written: such
   * a publish takes no slot of the broker's Receive Maximum, so a side channel (Home Assistant) cannot overfill the drain's window.
   */
  publish(topic: string, payload: string | Buffer, options?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
  /** Settles (never rejects) when the connection is gone, with the reason if there was one. */
  readonly closed: Promise<Error | undefined>;
  /** Closes the connection; pending publishes reject. */
  end(): Promise<void>;
}

/** Opens sessions; `kind` names the client in logs ("mqtt.js", "aws-iot-device-sdk-v2"). */
export interface UplinkConnector {
  readonly kind: string;
  /** Rejects when the connection cannot be made (refused, unreachable, TLS failure). */
  connect(will: WillMessage): Promise<UplinkSession>;
}

/** Retained message the broker publishes if the connection dies without a clean close. */
export interface WillMessage {
  topic: string;
  payload: Buffer;
}

/** A publish that failed because the connection went, not because the broker refused it. */
export class ConnectionLostError extends Error {
  readonly code = 'UPLINK_CONNECTION_LOST';
}

/** The broker answered the publish with a failing reason code (0x80 and up). */
export class PublishRefusedError extends Error {
  readonly code = 'UPLINK_PUBLISH_REFUSED';
  constructor(
    message: string,
    readonly reasonCode: number,
  ) {
    super(message);
  }
}

/** Tracks a session's unsettled publishes so a lost connection rejects every one of them at once. */
export class PendingPublishes {
  private readonly pending = new Set<(error: Error) => void>();
  private failure: Error | undefined;

  /** Runs `start` with settle callbacks; rejects at once if the session has already failed. */
  track(start: (resolve: () => void, reject: (error: Error) => void) => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        this.pending.delete(fail);
        reject(error);
      };
      this.pending.add(fail);
      start(
        () => {
          this.pending.delete(fail);
          resolve();
        },
        fail,
      );
    });
  }

  failAll(error: Error): void {
    this.failure ??= error;
    for (const fail of [...this.pending]) fail(error);
  }
}
