/**
 * Types for the part of nfc-pcsc 0.8 that hardware/nfc-reader.ts uses (the package ships none).
 * Checked against node_modules/nfc-pcsc/src: NFC emits `reader` and `error`; each Reader emits
 * `card`, `card.off`, `error` and `end`.
 */
declare module 'nfc-pcsc' {
  import { EventEmitter } from 'node:events';

  export const TAG_ISO_14443_3: 'TAG_ISO_14443_3';
  export const TAG_ISO_14443_4: 'TAG_ISO_14443_4';
  export const CONNECT_MODE_DIRECT: 'CONNECT_MODE_DIRECT';
  export const CONNECT_MODE_CARD: 'CONNECT_MODE_CARD';

  export interface Card {
    atr?: Buffer;
    standard?: typeof TAG_ISO_14443_3 | typeof TAG_ISO_14443_4;
    type?: string;
    uid?: string;
    data?: Buffer;
  }

  /** The @pokusew/pcsclite CardReader underneath, for its share-mode constants. */
  export interface PcscCardReader {
    readonly name: string;
    readonly SCARD_SHARE_DIRECT: number;
    readonly SCARD_SHARE_SHARED: number;
  }

  export interface Connection {
    type: number;
    protocol: number;
  }

  export class Reader extends EventEmitter {
    readonly name: string;
    readonly reader: PcscCardReader;
    /** When true (the default) the reader sends GET DATA (ISO 14443-3) or SELECT aid (ISO 14443-4) itself before `card`. */
    autoProcessing: boolean;
    aid: string | Buffer | ((card: Card) => Buffer) | null;
    card: Card | null;
    connection: Connection | null;
    connect(mode?: typeof CONNECT_MODE_DIRECT | typeof CONNECT_MODE_CARD): Promise<Connection>;
    disconnect(): Promise<boolean>;
    transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>;
    control(data: Buffer, responseMaxLength: number): Promise<Buffer>;
    read(blockNumber: number, length: number, blockSize?: number, packetSize?: number, readClass?: number): Promise<Buffer>;
    close(): void;
  }

  export class ACR122Reader extends Reader {}

  export class NFC extends EventEmitter {
    constructor(logger?: unknown);
    readonly readers: Record<string, PcscCardReader>;
    close(): void;
  }
}
