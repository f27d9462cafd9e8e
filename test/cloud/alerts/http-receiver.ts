import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real local HTTP server standing in for ntfy or a webhook: it records every POST and answers each
 * with the next scripted behaviour (a status, or 'hang': never answer), then 200 once the script is used up.
 */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Behaviour = number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** Behaviours for the next requests, in order. */
  script: Behaviour[];
  close(): Promise<void>;
}

export async function startReceiver(path = '/topic', script: Behaviour[] = []): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Partial<Receiver> = { received, script };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const next = receiver.script!.shift() ?? 200;
      if (next === 'hang') return;
      response.writeHead(next, { 'content-type': 'application/json' }).end(next < 300 ? '{"id":"ok"}' : `{"error":"status ${next}"}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as Receiver;
}
