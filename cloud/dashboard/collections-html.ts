import type { PublishedCollection } from '../../device/collection-exchange.ts';
import { byteSize } from '../../device/museum-bundle-format.ts';
import { escapeHtml } from './weather-format.ts';

/**
 * GET /public/collections for a browser: the published museum collections as one table, with the line
 * a teacher copies onto a box. Everything in it came from a school's bundle, so every value passes
 * through escapeHtml; the page has no script (collectionsPageHeaders' CSP forbids any).
 */

export const collectionsPageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  // Only the page's own style block; no script, no requests.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-cache',
} as const;

const STYLE = 'body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}table{border-collapse:collapse;width:100%}'
  + 'th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #8884;vertical-align:top}code{font-size:.9em;user-select:all;word-break:break-all}'
  + '.muted{opacity:.7}';

function row(c: PublishedCollection, fetchUrl: string): string {
  const cells = [
    `<strong>${escapeHtml(c.title)}</strong><div class="muted">${escapeHtml(c.name)}</div>`,
    escapeHtml(c.languages.length > 0 ? c.languages.join(', ') : c.language),
    escapeHtml(String(c.objectCount)),
    escapeHtml(byteSize(c.bundleBytes)),
    escapeHtml(String(c.version)),
    `<time datetime="${escapeHtml(c.publishedAt)}">${escapeHtml(c.publishedAt.slice(0, 10))}</time>`,
    `<code>hedgerow box fetch ${escapeHtml(fetchUrl)}</code>`,
  ];
  return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
}

/** The page; `fetchUrl` gives each collection's absolute URL (what `hedgerow box fetch` takes). */
export function collectionsPage(collections: readonly PublishedCollection[], fetchUrl: (c: PublishedCollection) => string): string {
  const body = collections.length === 0
    ? '<p>No museum collection is published here yet. A box publishes one with <code>hedgerow box publish</code>.</p>'
    : '<table><thead><tr><th>Collection</th><th>Languages</th><th>Objects</th><th>Size</th><th>Version</th><th>Published</th><th>Install on a box</th></tr></thead>'
      + `<tbody>${collections.map((c) => row(c, fetchUrl(c))).join('')}</tbody></table>`;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">'
    + `<link rel="icon" href="data:,"><title>Published museum collections</title><style>${STYLE}</style></head><body>`
    + '<h1>Published museum collections</h1>'
    + '<p class="muted">Each is a museum another school curated. Copy its line into a terminal on your museum box to install it '
    + '(add <code>--follow</code> to pick up new versions by itself).</p>'
    + `${body}</body></html>`
  );
}
