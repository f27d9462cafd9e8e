/**
 * A reader with virtual tags, for `npm start` (a museum box with nobody at it still taps now and
 * then, so its records reach the cloud) and for unit tests, which place and remove tags by hand.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from './core/clock.ts';
import type { LedState, NfcReader, NfcReaderEvents, TagInfo, TagKind } from './nfc-reader.ts';

export const VIRTUAL_READER_NAME = 'Hedgerow virtual NFC reader';

export interface VirtualTagSpec {
  uid: string;
  texts?: readonly string[];
  kind?: TagKind;
}

export interface VirtualNfcReaderOptions {
  log: Logger;
  /** Tags the automatic taps pick from, in turn. */
  tags?: readonly VirtualTagSpec[];
  /** Time between automatic taps; 0 turns them off (tests tap by hand). Default 0. */
  tapEveryMs?: number;
  /** How long an automatic tap leaves the tag on the reader. Default 3000 ms. */
  holdMs?: number;
  clock?: Clock;
}

export class VirtualNfcReader extends EventEmitter<NfcReaderEvents> implements NfcReader {
  /** Every LED state asked for, oldest first. */
  readonly ledStates: LedState[] = [];
  private present: VirtualTagSpec | null = null;
  private timer: TimerHandle | null = null;
  private next = 0;
  private running = false;
  private readonly clock: Clock;

  constructor(private readonly options: VirtualNfcReaderOptions) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  get name(): string {
    return VIRTUAL_READER_NAME;
  }

  async start(): Promise<void> {
    this.running = true;
    this.options.log.info(`NFC reader attached: ${VIRTUAL_READER_NAME}`);
    this.emit('attached', VIRTUAL_READER_NAME);
    const every = this.options.tapEveryMs ?? 0;
    if (every > 0 && (this.options.tags?.length ?? 0) > 0) {
      this.timer = this.clock.setInterval(() => void this.autoTap(), every);
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    if (this.running) this.remove();
    this.running = false;
    this.emit('detached', VIRTUAL_READER_NAME);
  }

  setLed(state: LedState): void {
    this.ledStates.push(state);
  }

  /** Puts a tag on the reader (a tag already there is taken off first, as a hand would). */
  place(spec: VirtualTagSpec): void {
    if (!this.running) throw new Error('the virtual reader is not started');
    if (this.present) this.remove();
    this.present = spec;
    const texts = spec.texts ?? [];
    const tag: TagInfo = {
      reader: VIRTUAL_READER_NAME,
      uid: spec.uid.toLowerCase(),
      atr: '',
      kind: spec.kind ?? 'iso14443-3',
      ndefTexts: async () => texts,
    };
    this.emit('tag', tag);
  }

  /** Takes the tag off the reader, if one is there. */
  remove(): void {
    const spec = this.present;
    if (!spec) return;
    this.present = null;
    this.emit('removed', { reader: VIRTUAL_READER_NAME, uid: spec.uid.toLowerCase() });
  }

  private async autoTap(): Promise<void> {
    const tags = this.options.tags ?? [];
    const spec = tags[this.next++ % tags.length];
    if (!spec || this.present) return;
    try {
      this.place(spec);
      await this.clock.sleep(this.options.holdMs ?? 3000);
      if (this.present === spec) this.remove();
    } catch (error) {
      this.options.log.error({ err: error }, 'virtual NFC reader: a tap failed');
    }
  }
}
