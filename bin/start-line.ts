import { networkInterfaces } from 'node:os';

/**
 * The one plain line `hedgerow start` ends its start-up with, outside the log, so a newcomer sees where
 * to look without reading log fields: the weather page, the API and where the API keys are. Bound to
 * every interface (api.host 0.0.0.0 or ::), the page is named by this machine's LAN address, which a
 * phone on the same Wi-Fi can open, and by localhost.
 */

export interface StartLineFacts {
  /** The API's URL as the listener reports it, e.g. http://127.0.0.1:8780 or http://0.0.0.0:8780. */
  endpoint: string;
  region: string;
  credentialsAt: string;
  /** This machine's first non-internal IPv4 address, if any. */
  lanAddress?: string;
}

const ANY_ADDRESS = /^http:\/\/(0\.0\.0\.0|\[::\])(:\d+)$/;

export function startLine(facts: StartLineFacts): string {
  const any = ANY_ADDRESS.exec(facts.endpoint);
  let page = `${facts.endpoint}/`;
  let api = facts.endpoint;
  if (any) {
    const port = any[2]!;
    const local = `http://localhost${port}`;
    if (facts.lanAddress) {
      api = `http://${facts.lanAddress}${port}`;
      page = `${api}/ (on this machine ${local}/)`;
    } else {
      api = local;
      page = `${local}/ (no network address found: other machines cannot reach it yet)`;
    }
  }
  return `hedgerow: running. Weather page ${page}  API ${api} (region ${facts.region})  API keys: ${facts.credentialsAt}  Stop: Ctrl-C`;
}

/** The first non-internal IPv4 address (the Pi's Wi-Fi or Ethernet address), or undefined. */
export function lanAddress(interfaces = networkInterfaces()): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
