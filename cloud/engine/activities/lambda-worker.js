// Worker thread of one lambda module. Plain JavaScript so it can register tsx before loading the
// module, which lets operators write lambdas in TypeScript or JavaScript alike.
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
const loaded = await import(pathToFileURL(workerData.file).href);
const handler = typeof loaded.default === 'function' ? loaded.default : loaded.handler;

parentPort.on('message', async ({ id, messages }) => {
  try {
    if (typeof handler !== 'function') throw new Error('the module exports no default function (or `handler`)');
    const result = await handler(messages);
    parentPort.postMessage({ id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort.postMessage({ ready: true });
