#!/usr/bin/env node
// The `hedgerow` command. It runs the esbuild build in dist/<stamp>/ when one matches the sources as
// they are now, building it first (in a child process, so this one never loads esbuild) when a source
// changed: a developer's edit is never hidden by an old build. Where dist/ cannot be written (a
// read-only install, esbuild missing) it runs the TypeScript sources through tsx, which works the same
// but starts slower and, on Node 20, costs tens of MB more RSS for the loader's thread.
//
// HEDGEROW_FROM_SOURCE=1 runs the sources through tsx without building (stack traces name .ts lines).
import { spawnSync } from 'node:child_process';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { buildDir, sourceStamp } from './source-stamp.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A build's modification time says when it was last started from: the build keeps recently used ones. */
function markUsed(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // A read-only install never prunes, so it needs no mark.
  }
}

/** The built CLI for the current sources, building it if needed; undefined (with one line saying why) if it cannot be. */
function builtCli() {
  const dir = buildDir(root, sourceStamp(root));
  if (existsSync(join(dir, 'cli.js'))) {
    markUsed(dir);
    return join(dir, 'cli.js');
  }
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('./build.js', import.meta.url)), '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  // The build prints its folder: newer than ours if a source changed while it ran.
  const built = build.status === 0 ? join(build.stdout.trim(), 'cli.js') : undefined;
  if (built && existsSync(built)) return built;
  const reason = (build.stderr ?? '').trim().split('\n').at(-1)?.replace(/^hedgerow build: /, '') || build.error?.message || `exit code ${build.status}`;
  process.stderr.write(
    `hedgerow: running the TypeScript sources through tsx (slower start, more memory) because dist/ could not be rebuilt: ${reason}. Fix: npm run build (in ${root})\n`,
  );
  return undefined;
}

const cli = process.env.HEDGEROW_FROM_SOURCE === '1' ? undefined : builtCli();
if (cli) {
  const { main } = await import(pathToFileURL(cli).href);
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('./cli.ts');
  await main(process.argv);
}
