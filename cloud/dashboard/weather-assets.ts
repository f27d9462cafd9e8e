import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { entryFile, PACKAGE_ROOT } from '../engine/code-location.ts';
import bundle from './client/bundle.json' with { type: 'json' };

/**
 * The page's script and stylesheet (the chart code with uPlot, and weather-page.css with uPlot's CSS),
 * served by the engine from its own paths so the page loads nothing from the internet and the CSP can
 * allow 'self' only. A build (bin/build.js) holds them ready made beside its entry points; running from
 * the sources, esbuild bundles them in memory at the first request and they are kept for the process.
 */

export const WEATHER_ASSETS = { script: `/assets/${bundle.name}.js`, style: `/assets/${bundle.name}.css` } as const;
/** The assets change only with a new build or restart; a browser checks its copy after this long. */
const CACHE_SECONDS = 300;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

interface Bundle {
  script: Asset;
  style: Asset;
}

function asset(body: Uint8Array, type: string): Asset {
  const data = Buffer.from(body);
  return { body: data, type, etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 22)}"` };
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The build's ready-made files, when this code runs from a build that has them. */
function prebuilt(): Bundle | undefined {
  const script = entryFile(new URL(`../../${bundle.entry}`, import.meta.url));
  const style = script.replace(/\.js$/, '.css');
  if (!script.endsWith('.js') || !existsSync(script) || !existsSync(style)) return undefined;
  return { script: asset(readFileSync(script), JS), style: asset(readFileSync(style), CSS) };
}

async function buildInMemory(): Promise<Bundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    ...(bundle.options as object),
    absWorkingDir: PACKAGE_ROOT,
    entryPoints: { [bundle.name]: join(PACKAGE_ROOT, bundle.entry) },
    outdir: join(PACKAGE_ROOT, 'dist', 'memory'),
    write: false,
    logLevel: 'silent',
  });
  const pick = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild made no ${ext} file for ${bundle.entry}`);
    return file.contents;
  };
  return { script: asset(pick('.js'), JS), style: asset(pick('.css'), CSS) };
}

let loading: Promise<Bundle> | undefined;

/** The bundle, made once per process; a failed build is tried again at the next request. */
export function weatherBundle(): Promise<Bundle> {
  loading ??= Promise.resolve()
    .then(() => prebuilt() ?? buildInMemory())
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}

export function registerWeatherAssets(app: FastifyInstance, log: Logger): void {
  for (const which of ['script', 'style'] as const) {
    app.get(WEATHER_ASSETS[which], async (request, reply) => {
      let file: Asset;
      try {
        file = (await weatherBundle())[which];
      } catch (error) {
        log.error({ err: error }, `weather page: bundling its ${which} failed; the page works without charts`);
        return reply.code(503).header('retry-after', '60').type('text/plain; charset=utf-8').send('The chart files could not be prepared. The page works without them; try again in a minute.');
      }
      void reply.header('cache-control', `public, max-age=${CACHE_SECONDS}`).header('etag', file.etag).header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.code(200).type(file.type).send(file.body);
    });
  }
}
