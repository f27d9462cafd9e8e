/**
 * The NFC reader behind one interface: tags in and out as typed events. The real one runs on
 * nfc-pcsc and pcscd (ACR122U, ACR1252U or any PC/SC reader); hardware/virtual-nfc-reader.ts taps
 * virtual tags for `npm start` and unit tests. This is the only module that imports nfc-pcsc, and it
 * runs only inside the reader process (hardware/nfc-reader-process.ts): a pcsclite call that never
 * returns must not block the station, so the box talks to hardware/nfc-process-reader.ts instead.
 *
 * The reader loop must survive whatever is put on the reader and whatever happens to the reader:
 * every nfc-pcsc event handler catches, a tag that leaves mid-read is dropped quietly, a reader that
 * goes away is logged and its replacement picked up, and a pcscd that stops is waited for.
 */
import { EventEmitter } from 'node:events';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { Logger } from 'pino';
import { NFC, CONNECT_MODE_CARD, CONNECT_MODE_DIRECT, TAG_ISO_14443_3, type Card, type Reader } from 'nfc-pcsc';
import {
  ACR122_BUZZER_OFF,
  ACR1252_BEHAVIOR_BUZZER_BIT,
  ACR1252_READ_BEHAVIOR,
  acr122Led,
  acr1252Behavior,
  acr1252SetBehavior,
  readerModel,
  succeeded,
  type LedState,
  type ReaderModel,
} from './acr-reader-commands.ts';
import { decodeNdefMessage, readType2NdefMessage, textRecords, TYPE2_PAGE_SIZE } from './ndef.ts';
import { InFlight } from './in-flight.ts';
import { noReaderMessage, pcscdAnswers, pcscdSocketPath, PCSCD_MISSING_HINT } from './nfc-diagnostics.ts';
import type { NfcReader, NfcReaderEvents, TagInfo, TagKind, TagRemoved } from './nfc-types.ts';
import type { PcscCall } from './nfc-ipc.ts';

export type { LedState } from './acr-reader-commands.ts';
export type { NfcReader, NfcReaderEvents, TagInfo, TagKind, TagRemoved } from './nfc-types.ts';

/** GET DATA, P1 = 00: the UID of the tag in the field (PC/SC part 3). */
const GET_UID = Buffer.from([0xff, 0xca, 0x00, 0x00, 0x00]);
/** Longest UID (10 bytes, triple size) plus the status word. */
const UID_ANSWER_MAX = 12;
const ESCAPE_ANSWER_MAX = 64;
const READ_PACKET_BYTES = 16;
const DEFAULT_RETRY_MS = 2000;
const DEFAULT_NO_READER_HINT_MS = 5000;
/** How long stop() waits for commands in flight before it closes the readers. */
const STOP_SETTLE_MS = 2000;

export interface PcscNfcReaderOptions {
  log: Logger;
  /** Use only readers whose name contains this (case-insensitive). Default: every reader. */
  readerName?: string | undefined;
  /** Keep the ACR122U/ACR1252U beep on each tag. Default false: the box plays its own sounds. */
  buzzer?: boolean | undefined;
  /** Show ready/playing on the ACR122U LED. Default true. */
  led?: boolean | undefined;
  /** How often to look for pcscd again after it went away. Default 2000 ms. */
  retryMs?: number | undefined;
  /** How long to wait for a reader before explaining the usual reasons. Default 5000 ms. */
  noReaderHintMs?: number | undefined;
  /** pcscd's socket. Default PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm. */
  socketPath?: string | undefined;
  /** Where loaded kernel modules are listed. Default /proc/modules. */
  modulesPath?: string | undefined;
  /** Told when each pcsclite call starts; the returned function when it settles (the reader process's watchdog). */
  watch?: PcscCallWatch | undefined;
}

/** Sees every pcsclite call that can hang, so a watchdog outside this process can give it a deadline. */
export type PcscCallWatch = (call: PcscCall, what: string, reader: string) => () => void;

interface ReaderState {
  reader: Reader;
  name: string;
  model: ReaderModel;
  /** Rises on every tag in and out, so work for a tag that has left can tell. */
  session: number;
  present: TagRemoved | null;
  /** The ACR122U refused the escape command, so the buzzer goes off over the first tag's connection. */
  buzzerOffPending: boolean;
  /** A direct-mode (no tag) connection is open for an escape command. */
  direct: Promise<void> | null;
  /** The driver refused an escape command without a tag (libccid does unless told otherwise): stop trying. */
  escapeRefused: boolean;
  ledFailed: boolean;
  /** Commands in flight; close() waits for them (see stop()). */
  inFlight: InFlight;
}

export class PcscNfcReader extends EventEmitter<NfcReaderEvents> implements NfcReader {
  private nfc: NFC | null = null;
  private readonly readers = new Map<string, ReaderState>();
  private running = false;
  private pcscdMissingLogged = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private hintTimer: NodeJS.Timeout | null = null;
  private readonly socketPath: string;

  constructor(private readonly options: PcscNfcReaderOptions) {
    super();
    this.socketPath = options.socketPath ?? pcscdSocketPath();
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    const states = [...this.readers.values()];
    // pcsclite's close() takes the reader's lock on the main thread, and a command in flight holds it
    // until the reader answers: let commands finish first, or close() could wait for ever.
    await Promise.all(states.map((state) => state.inFlight.settle(STOP_SETTLE_MS)));
    // pcsclite also holds that lock while it runs our card listeners, and Node drains promise jobs
    // before the listener returns: a stop() awaited from a tag event would close() inside the lock.
    // A macrotask hop gets out of any native callback first.
    await setImmediatePromise();
    for (const state of states) this.closeReader(state);
    this.closeNfc();
  }

  setLed(led: LedState): void {
    if (this.options.led === false) return;
    for (const state of this.readers.values()) {
      if (state.model !== 'acr122') continue;
      const command = acr122Led(led);
      const withTag = state.reader.card !== null && state.reader.connection !== null;
      if (!withTag && state.escapeRefused) continue;
      const sent = withTag
        ? this.run(state, 'SCardTransmit', 'LED control', () => state.reader.transmit(command, 2))
        : this.run(state, 'SCardControl', 'LED control', () => this.escape(state, command));
      sent.catch((error: unknown) => {
        // Readers without the escape command enabled, or a tag that just left: the LED is a nicety.
        if (!state.ledFailed) this.options.log.debug(`${state.name}: LED not set (${message(error)}); further LED errors are not logged`);
        state.ledFailed = true;
      });
    }
  }

  private async connect(): Promise<void> {
    if (!this.running || this.nfc) return;
    if (!(await pcscdAnswers(this.socketPath))) {
      if (!this.pcscdMissingLogged) this.options.log.warn(`NFC: ${PCSCD_MISSING_HINT} (no answer on ${this.socketPath}); retrying`);
      this.pcscdMissingLogged = true;
      this.retryLater();
      return;
    }
    if (!this.running) return;
    if (this.pcscdMissingLogged) this.options.log.info('NFC: pcscd answers again');
    this.pcscdMissingLogged = false;
    const nfc = new NFC();
    this.nfc = nfc;
    nfc.on('reader', (reader: Reader) => guard(this.options.log, 'reader attach', () => this.attach(reader)));
    nfc.on('error', (error: Error) => guard(this.options.log, 'pcscd error', () => this.lost(nfc, error)));
    this.armNoReaderHint();
  }

  private lost(nfc: NFC, error: Error): void {
    if (this.nfc !== nfc) return;
    this.options.log.warn(`NFC: lost pcscd (${error.message}); waiting for it to come back`);
    for (const state of [...this.readers.values()]) this.detach(state);
    this.closeNfc();
    this.retryLater();
  }

  private attach(reader: Reader): void {
    const name = reader.name;
    const wanted = this.options.readerName?.toLowerCase();
    if (wanted && !name.toLowerCase().includes(wanted)) {
      this.options.log.info(`NFC: ignoring reader "${name}" (readerName is "${this.options.readerName}")`);
      reader.on('error', () => undefined);
      // Closed, it no longer connects to every tag put on it; from a macrotask, outside pcsclite's callback.
      setImmediate(() => reader.close());
      return;
    }
    reader.autoProcessing = false;
    const state: ReaderState = {
      reader,
      name,
      model: readerModel(name),
      session: 0,
      present: null,
      buzzerOffPending: false,
      direct: null,
      escapeRefused: false,
      ledFailed: false,
      inFlight: new InFlight(),
    };
    const log = this.options.log;
    reader.on('card', (card: Card) => void this.onCard(state, card));
    reader.on('card.off', () => guard(log, 'tag removed', () => this.onCardOff(state)));
    reader.on('error', (error: Error) => log.warn(`${name}: ${error.message}`));
    reader.on('end', () => guard(log, 'reader detach', () => this.detach(state)));
    this.readers.set(name, state);
    this.disarmNoReaderHint();
    log.info(`NFC reader attached: ${name}`);
    this.tell('attached', name);
    void this.quietBuzzer(state);
  }

  private detach(state: ReaderState): void {
    if (this.readers.get(state.name) !== state) return;
    this.readers.delete(state.name);
    this.onCardOff(state);
    state.reader.removeAllListeners();
    state.reader.on('error', () => undefined);
    this.options.log.warn(`NFC reader detached: ${state.name}; waiting for it to come back`);
    this.tell('detached', state.name);
    if (this.readers.size === 0) this.armNoReaderHint();
  }

  private async onCard(state: ReaderState, card: Card): Promise<void> {
    const session = ++state.session;
    const { reader, name } = state;
    try {
      if (state.direct) {
        // An escape command held a direct connection when the tag came: reconnect in card mode.
        await state.direct;
        await this.run(state, 'SCardConnect', 'reconnect for the tag', async () => {
          if (reader.connection) await reader.disconnect();
          await reader.connect(CONNECT_MODE_CARD);
        });
      }
      const answer = await this.run(state, 'SCardTransmit', 'UID read', () => reader.transmit(GET_UID, UID_ANSWER_MAX));
      if (session !== state.session) return;
      const kind: TagKind = card.standard === TAG_ISO_14443_3 ? 'iso14443-3' : 'iso14443-4';
      if (!succeeded(answer) || answer.length < 3) {
        this.options.log.warn(`${name}: a ${kind} tag gave no UID (status ${answer.subarray(-2).toString('hex')}); ignored`);
        return;
      }
      const uid = answer.subarray(0, -2).toString('hex');
      state.present = { reader: name, uid };
      let texts: Promise<readonly string[]> | null = null;
      const tag: TagInfo = {
        reader: name,
        uid,
        atr: card.atr?.toString('hex') ?? '',
        kind,
        ndefTexts: () => (texts ??= this.readNdef(state, session, uid, kind)),
      };
      this.tell('tag', tag);
      if (state.buzzerOffPending) await this.buzzerOffOverTag(state);
    } catch (error) {
      if (session === state.session) this.options.log.warn(`${name}: could not read the tag (${message(error)}); tap it again`);
    }
  }

  private onCardOff(state: ReaderState): void {
    state.session++;
    const present = state.present;
    state.present = null;
    if (present) this.tell('removed', present);
  }

  /** Emits without letting a listener's exception into nfc-pcsc's handlers or our tag handling. */
  private tell<K extends keyof NfcReaderEvents>(event: K, ...args: NfcReaderEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: NfcReaderEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.options.log.error({ err: error }, `NFC: a ${event} listener failed`);
    }
  }

  private async readNdef(state: ReaderState, session: number, uid: string, kind: TagKind): Promise<readonly string[]> {
    if (kind !== 'iso14443-3') return [];
    try {
      const message = await readType2NdefMessage(async (page, length) => {
        if (session !== state.session) throw new Error('the tag left the reader');
        return this.run(state, 'SCardTransmit', 'NDEF read', () => state.reader.read(page, length, TYPE2_PAGE_SIZE, READ_PACKET_BYTES));
      });
      return message ? textRecords(decodeNdefMessage(message)) : [];
    } catch (error) {
      // MIFARE Classic and other non-Type-2 tags refuse page reads; their UID is all there is.
      this.options.log.debug(`${state.name}: tag ${uid} has no readable NDEF message (${message(error)})`);
      return [];
    }
  }

  /** Turns the card-detection beep off as soon as the reader attaches, where the driver allows escape commands. */
  private async quietBuzzer(state: ReaderState): Promise<void> {
    if (this.options.buzzer || state.model === 'other') return;
    try {
      if (state.model === 'acr122') {
        const answer = await this.run(state, 'SCardControl', 'buzzer control', () => this.escape(state, ACR122_BUZZER_OFF));
        if (!succeeded(answer)) throw new Error(`answer ${answer.toString('hex')}`);
      } else {
        const behavior = acr1252Behavior(await this.run(state, 'SCardControl', 'buzzer control', () => this.escape(state, ACR1252_READ_BEHAVIOR)));
        if (behavior === null) throw new Error('unexpected answer to "read LED and buzzer behavior"');
        if (behavior & ACR1252_BEHAVIOR_BUZZER_BIT) {
          await this.run(state, 'SCardControl', 'buzzer control', () => this.escape(state, acr1252SetBehavior(behavior & ~ACR1252_BEHAVIOR_BUZZER_BIT)));
        }
      }
      this.options.log.info(`${state.name}: buzzer off (the box plays its own sounds)`);
    } catch (error) {
      const hint =
        'to silence it from the start, allow escape commands: set ifdDriverOptions to 0x0001 in /etc/libccid_Info.plist and restart pcscd';
      if (state.model === 'acr122') {
        state.buzzerOffPending = true;
        this.options.log.info(`${state.name}: escape commands refused (${message(error)}); the buzzer goes off at the first tag. ${hint}`);
      } else {
        this.options.log.warn(`${state.name}: could not turn the buzzer off (${message(error)}); ${hint}`);
      }
    }
  }

  private async buzzerOffOverTag(state: ReaderState): Promise<void> {
    state.buzzerOffPending = false;
    try {
      const answer = await this.run(state, 'SCardTransmit', 'buzzer control', () => state.reader.transmit(ACR122_BUZZER_OFF, 2));
      if (!succeeded(answer)) throw new Error(`answer ${answer.toString('hex')}`);
      this.options.log.info(`${state.name}: buzzer off (the box plays its own sounds)`);
    } catch (error) {
      this.options.log.warn(`${state.name}: could not turn the buzzer off (${message(error)}); it will beep on each tag`);
    }
  }

  /** A pcsclite call: kept in flight for stop(), and shown to the watchdog while it runs. */
  private run<T>(state: ReaderState, call: PcscCall, what: string, command: () => Promise<T>): Promise<T> {
    const settled = this.options.watch?.(call, what, state.name);
    const promise = state.inFlight.run(command);
    if (settled) promise.then(settled, settled);
    return promise;
  }

  /** An escape command (SCardControl) over the tag's connection, or a direct one when no tag is there. */
  private async escape(state: ReaderState, command: Buffer): Promise<Buffer> {
    const { reader } = state;
    if (reader.card && reader.connection) return reader.control(command, ESCAPE_ANSWER_MAX);
    if (state.direct) await state.direct;
    const run = (async () => {
      await reader.connect(CONNECT_MODE_DIRECT);
      try {
        return await reader.control(command, ESCAPE_ANSWER_MAX);
      } catch (error) {
        state.escapeRefused = true;
        throw error;
      } finally {
        // A tag that arrived meanwhile keeps the connection; onCard reconnects it in card mode.
        if (!reader.card && reader.connection) await reader.disconnect().catch(() => undefined);
      }
    })();
    state.direct = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      state.direct = null;
    }
  }

  private armNoReaderHint(): void {
    if (this.hintTimer || !this.running) return;
    this.hintTimer = setTimeout(() => {
      this.hintTimer = null;
      if (!this.running || this.readers.size > 0 || !this.nfc) return;
      void noReaderMessage(this.options.modulesPath).then((text) => {
        if (this.running && this.readers.size === 0) this.options.log.warn(`NFC: ${text}`);
      });
    }, this.options.noReaderHintMs ?? DEFAULT_NO_READER_HINT_MS);
    this.hintTimer.unref();
  }

  private disarmNoReaderHint(): void {
    if (this.hintTimer) clearTimeout(this.hintTimer);
    this.hintTimer = null;
  }

  private retryLater(): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.options.retryMs ?? DEFAULT_RETRY_MS);
    this.retryTimer.unref();
  }

  private clearTimers(): void {
    this.disarmNoReaderHint();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private closeReader(state: ReaderState): void {
    this.readers.delete(state.name);
    state.reader.removeAllListeners();
    state.reader.on('error', () => undefined);
    try {
      state.reader.close();
    } catch (error) {
      this.options.log.debug(`${state.name}: close failed (${message(error)})`);
    }
  }

  private closeNfc(): void {
    const nfc = this.nfc;
    this.nfc = null;
    if (!nfc) return;
    nfc.removeAllListeners();
    nfc.on('error', () => undefined);
    try {
      nfc.close();
    } catch (error) {
      this.options.log.debug(`NFC: close failed (${message(error)})`);
    }
  }
}

/** nfc-pcsc calls our listeners from its own async handlers: anything thrown there would be an unhandled rejection. */
function guard(log: Logger, what: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    log.error({ err: error }, `NFC: ${what} handler failed`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
}
