/**
 * What every NFC reader implementation reports: tags in and out as typed events. The real reader is in
 * nfc-reader.ts (nfc-pcsc + pcscd), run in a process of its own behind nfc-process-reader.ts; the
 * virtual one is in virtual-nfc-reader.ts.
 */
import type { LedState } from './acr-reader-commands.ts';

export type TagKind = 'iso14443-3' | 'iso14443-4';

export interface TagInfo {
  /** Reader name as pcscd reports it. */
  reader: string;
  /** Lower-case hex, as `hedgerow box assign` and the manifest write it. */
  uid: string;
  /** Answer to reset, hex. */
  atr: string;
  /** iso14443-3: NTAG, Ultralight, Classic. iso14443-4: DESFire, bank cards, phones (random UID per tap). */
  kind: TagKind;
  /**
   * The tag's NDEF text records, read on the first call and remembered. Not read before the `tag`
   * event, so a UID the manifest knows plays without waiting for page reads. [] when the tag has
   * none, is not a Type 2 tag, or left the reader.
   */
  ndefTexts(): Promise<readonly string[]>;
}

export interface TagRemoved {
  reader: string;
  uid: string;
}

export interface NfcReaderEvents {
  attached: [reader: string];
  detached: [reader: string];
  tag: [tag: TagInfo];
  removed: [tag: TagRemoved];
}

export interface NfcReader {
  on<K extends keyof NfcReaderEvents>(event: K, listener: (...args: NfcReaderEvents[K]) => void): this;
  off<K extends keyof NfcReaderEvents>(event: K, listener: (...args: NfcReaderEvents[K]) => void): this;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Shows ready or playing on the reader's LED where the reader has one (ACR122U); a no-op elsewhere. */
  setLed(state: LedState): void;
}
