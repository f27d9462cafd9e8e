/**
 * The messages between the station's process and the NFC reader process (hardware/nfc-reader-process.ts),
 * defined once: each side parses what it receives, and the parent treats the child's messages as
 * untrusted (a child wedged in a native call, or killed mid-write, must not crash the station).
 */
import { z } from 'zod';

/** The pcsclite calls the reader process makes, each watched by the parent's watchdog. */
export const PCSC_CALLS = ['SCardConnect', 'SCardTransmit', 'SCardControl'] as const;
export type PcscCall = (typeof PCSC_CALLS)[number];

const readerName = z.string().max(200);
const uid = z.string().regex(/^[0-9a-f]{2,40}$/);

/** What the reader process needs to run PcscNfcReader; the parent's options minus its logger. */
export const readerProcessOptions = z.object({
  readerName: z.string().optional(),
  buzzer: z.boolean().optional(),
  led: z.boolean().optional(),
  retryMs: z.number().int().positive().optional(),
  noReaderHintMs: z.number().int().positive().optional(),
  socketPath: z.string().optional(),
  modulesPath: z.string().optional(),
  /** How often the process says it is alive. */
  heartbeatMs: z.number().int().positive(),
  /** pino level name for the process's own lines (they travel back as `log` messages). */
  logLevel: z.string(),
});
export type ReaderProcessOptions = z.output<typeof readerProcessOptions>;

export const toReaderProcess = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), options: readerProcessOptions }),
  z.object({ type: z.literal('led'), state: z.enum(['ready', 'playing']) }),
  /** Read the NDEF text records of tag `ref` (a number from its `tag` message). */
  z.object({ type: z.literal('ndef'), id: z.number().int(), ref: z.number().int() }),
  z.object({ type: z.literal('stop') }),
]);
export type ToReaderProcess = z.output<typeof toReaderProcess>;

export const fromReaderProcess = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('heartbeat') }),
  z.object({ type: z.literal('attached'), reader: readerName }),
  z.object({ type: z.literal('detached'), reader: readerName }),
  z.object({ type: z.literal('tag'), ref: z.number().int(), reader: readerName, uid, atr: z.string().max(200), kind: z.enum(['iso14443-3', 'iso14443-4']) }),
  z.object({ type: z.literal('removed'), reader: readerName, uid }),
  z.object({ type: z.literal('ndef'), id: z.number().int(), texts: z.array(z.string().max(10_000)).max(64) }),
  /** A pcsclite call starts: the parent's watchdog gives it a deadline. */
  z.object({ type: z.literal('begin'), id: z.number().int(), call: z.enum(PCSC_CALLS), what: z.string().max(200), reader: readerName }),
  z.object({ type: z.literal('end'), id: z.number().int() }),
  z.object({ type: z.literal('log'), level: z.number().int(), msg: z.string().max(10_000) }),
]);
export type FromReaderProcess = z.output<typeof fromReaderProcess>;
