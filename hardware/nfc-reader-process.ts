/**
 * The NFC reader process: runs PcscNfcReader (nfc-pcsc, @pokusew/pcsclite) away from the station, so
 * a pcsclite call that never returns can block only this process, which the parent's watchdog then
 * kills (hardware/nfc-process-reader.ts). It imports hardware/ only, so on a Pi it stays small.
 *
 * Everything it learns goes to the parent as messages of hardware/nfc-ipc.ts: tags, log lines, a
 * heartbeat, and the start and end of each pcsclite call.
 */
import pino from 'pino';
import { toReaderProcess, type FromReaderProcess, type ReaderProcessOptions } from './nfc-ipc.ts';
import { PcscNfcReader } from './nfc-reader.ts';
import type { TagInfo } from './nfc-types.ts';

/** Tags whose NDEF records the parent may still ask for; older ones answer []. */
const KEPT_TAGS = 16;

function send(message: FromReaderProcess): void {
  // The parent is gone (the channel closed): there is nobody to tell, and the process ends below.
  if (process.connected) process.send?.(message);
}

function run(options: ReaderProcessOptions): PcscNfcReader {
  const log = pino(
    { level: options.logLevel, base: null, timestamp: false },
    {
      write(line: string) {
        const parsed = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
        send({ type: 'log', level: parsed.level, msg: parsed.msg ?? parsed.err?.message ?? '' });
      },
    },
  );
  let nextCall = 0;
  const reader = new PcscNfcReader({
    log,
    readerName: options.readerName,
    buzzer: options.buzzer,
    led: options.led,
    retryMs: options.retryMs,
    noReaderHintMs: options.noReaderHintMs,
    socketPath: options.socketPath,
    modulesPath: options.modulesPath,
    watch: (call, what, name) => {
      const id = ++nextCall;
      send({ type: 'begin', id, call, what, reader: name });
      return () => send({ type: 'end', id });
    },
  });
  const tags = new Map<number, TagInfo>();
  let nextRef = 0;
  reader.on('attached', (name) => send({ type: 'attached', reader: name }));
  reader.on('detached', (name) => send({ type: 'detached', reader: name }));
  reader.on('removed', (tag) => send({ type: 'removed', ...tag }));
  reader.on('tag', (tag) => {
    const ref = ++nextRef;
    tags.set(ref, tag);
    tags.delete(ref - KEPT_TAGS);
    send({ type: 'tag', ref, reader: tag.reader, uid: tag.uid, atr: tag.atr, kind: tag.kind });
  });
  process.on('message', (raw: unknown) => {
    const parsed = toReaderProcess.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'led') reader.setLed(message.state);
    else if (message.type === 'ndef') {
      const tag = tags.get(message.ref);
      void (tag ? tag.ndefTexts() : Promise.resolve([])).then((texts) => send({ type: 'ndef', id: message.id, texts: [...texts] }));
    } else if (message.type === 'stop') {
      void reader.stop().finally(() => process.exit(0));
    }
  });
  return reader;
}

process.once('message', (raw: unknown) => {
  const parsed = toReaderProcess.safeParse(raw);
  if (!parsed.success || parsed.data.type !== 'start') {
    process.stderr.write('nfc-reader-process: the first message must be {type: "start"}\n');
    process.exit(2);
  }
  const { options } = parsed.data;
  const reader = run(options);
  send({ type: 'heartbeat' });
  setInterval(() => send({ type: 'heartbeat' }), options.heartbeatMs);
  // The station went away without stopping us: close the reader and go too.
  process.once('disconnect', () => void reader.stop().finally(() => process.exit(0)));
  void reader.start().then(
    () => send({ type: 'ready' }),
    (error: unknown) => {
      send({ type: 'log', level: 50, msg: `NFC: the reader did not start (${error instanceof Error ? error.message : String(error)})` });
      process.exit(1);
    },
  );
});
// The parent does not start us within a minute: it has gone or hung itself.
setTimeout(() => process.exit(3), 60_000).unref();
