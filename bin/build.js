#!/usr/bin/env node
// Builds dist/<stamp>/: the CLI and the modules that run as a process or worker thread of their own,
// bundled by esbuild into plain JavaScript. Node then runs them without tsx's loader, which on Node 20
// runs in an extra thread and costs a Pi tens of MB of RSS. `npm ci` runs this (prepare); `hedgerow`
// runs it when a source changed since the last build.
//
//   node bin/build.js [--quiet]     --quiet: only the build folder, on stdout (for bin/hedgerow.js)
//
// Exit codes: 0 built (or already fresh), 1 the sources do not compile, 3 dist/ cannot be written,
// 4 esbuild is not installed. Only `dependencies` are needed, so it works after `npm ci --omit=dev`.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { buildDir, distDir, sourceStamp } from './source-stamp.js';

/**
 * Entry points, named by the file's base name: a module run as its own process or worker finds its
 * compiled sibling under that name (cloud/engine/code-location.ts), and lazy import()s become chunks.
 */
const ENTRY_POINTS = ['bin/cli.ts', 'cloud/storage/sqlite-query-process.ts', 'cloud/engine/activities/lambda-worker.js', 'hardware/nfc-reader-process.ts'];
/** The weather page's browser script and stylesheet, built beside the entries (cloud/dashboard/weather-assets.ts serves them). */
const BROWSER_BUNDLE = JSON.parse(readFileSync(fileURLToPath(new URL('../cloud/dashboard/client/bundle.json', import.meta.url)), 'utf8'));
/**
 * Older builds kept besides the new one, for processes still running from them (they load chunks,
 * workers and child processes from their build later): the newest few, and any started from lately
 * (`hedgerow` touches the build it runs).
 */
const KEPT_BUILDS = 3;
const KEPT_USED_MS = 60 * 60_000;
/** A temporary build folder this old belongs to a build that died. */
const STALE_TEMP_MS = 10 * 60_000;
/** Sources edited during the build make it stale before it lands: build again, this many times at most. */
const ATTEMPTS = 3;

const root = fileURLToPath(new URL('..', import.meta.url));
const quiet = process.argv.includes('--quiet');

function fail(code, message) {
  process.stderr.write(`hedgerow build: ${message}\n`);
  process.exit(code);
}

function entryPoints() {
  const entries = {};
  for (const file of ENTRY_POINTS) {
    const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.(ts|js)$/, '');
    entries[name] = join(root, file);
  }
  return entries;
}

/** Removes builds nobody started from lately, beyond the newest few, and leftovers of builds that died. */
function prune(keep) {
  const dist = distDir(root);
  const builds = [];
  for (const name of readdirSync(dist)) {
    const path = join(dist, name);
    const mtime = statSync(path).mtimeMs;
    if (name.startsWith('.tmp-')) {
      if (Date.now() - mtime > STALE_TEMP_MS) rmSync(path, { recursive: true, force: true });
    } else if (path !== keep) builds.push({ path, mtime });
  }
  builds.sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(KEPT_BUILDS)) {
    if (Date.now() - old.mtime > KEPT_USED_MS) rmSync(old.path, { recursive: true, force: true });
  }
}

function describe(error) {
  const first = error?.errors?.[0];
  if (!first) return error instanceof Error ? error.message : String(error);
  const where = first.location ? `${first.location.file}:${first.location.line}: ` : '';
  return `${where}${first.text}`;
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (error) {
  fail(4, `esbuild is not installed (${error.code ?? error.message}): run npm install in ${root}`);
}

for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
  const stamp = sourceStamp(root);
  const target = buildDir(root, stamp);
  if (!existsSync(join(target, 'cli.js'))) {
    // A temporary folder, renamed into place when complete: a concurrent start never sees half a build.
    const temp = join(distDir(root), `.tmp-${stamp}-${process.pid}`);
    try {
      mkdirSync(temp, { recursive: true });
    } catch (error) {
      fail(3, `cannot write ${distDir(root)} (${error.code ?? error.message})`);
    }
    try {
      await esbuild.build({
        absWorkingDir: root,
        entryPoints: entryPoints(),
        outdir: temp,
        // Chunks beside the entries: a bundled module's import.meta.url then names the build folder.
        entryNames: '[name]',
        chunkNames: '[name]-[hash]',
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        // pino names an error by its constructor, and bundling may rename a class that shares a name.
        keepNames: true,
        sourcemap: 'linked',
        logLevel: 'silent',
      });
      await esbuild.build({
        ...BROWSER_BUNDLE.options,
        absWorkingDir: root,
        entryPoints: { [BROWSER_BUNDLE.name]: join(root, BROWSER_BUNDLE.entry) },
        outdir: temp,
        logLevel: 'silent',
      });
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      fail(1, `the sources do not compile: ${describe(error)}`);
    }
    if (sourceStamp(root) !== stamp) {
      rmSync(temp, { recursive: true, force: true });
      continue;
    }
    try {
      renameSync(temp, target);
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      // Another process built the same sources first: its build is as good as ours.
      if (!existsSync(join(target, 'cli.js'))) fail(3, `cannot write ${target} (${error.code ?? error.message})`);
    }
    prune(target);
  }
  if (quiet) process.stdout.write(`${target}\n`);
  else process.stderr.write(`hedgerow build: ${target} is up to date with the sources\n`);
  process.exit(0);
}
fail(1, `the sources kept changing during ${ATTEMPTS} builds; run npm run build again once they are saved`);
