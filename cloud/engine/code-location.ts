import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the running code lives: the TypeScript sources (run through tsx) or a build in dist/<stamp>/
 * (bin/build.js bundles every module into flat chunks there). Files found relative to a module
 * differ between the two, so modules that start a process or worker, or read a file of the package,
 * ask here instead of resolving against their own import.meta.url.
 */

const HERE = fileURLToPath(import.meta.url);

/** True when running from the esbuild build rather than from the .ts sources. */
export const RUNS_FROM_BUILD = !HERE.endsWith('.ts');

/** The build folder: every entry point and chunk sits directly in it. */
const BUILD_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The package root (package.json, cloud/resources/): cloud/ in the sources, dist/<stamp>/ in a build. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The runner that loads a .ts file through tsx (bin/run-ts.js). */
const RUN_TS = join(PACKAGE_ROOT, 'bin/run-ts.js');

/**
 * The file of a module that runs as its own worker thread: the source file itself, or its compiled
 * sibling in the build (an entry point of bin/build.js, named by the source's base name).
 */
export function entryFile(source: URL): string {
  const path = fileURLToPath(source);
  if (!RUNS_FROM_BUILD) return path;
  return join(BUILD_DIR, basename(path).replace(/\.ts$/, '.js'));
}

/** What child_process.fork() runs for a module that is its own process: tsx's runner and the .ts file, or the compiled file. */
export function forkTarget(source: URL): { module: string; args: string[] } {
  const file = entryFile(source);
  return file.endsWith('.ts') ? { module: RUN_TS, args: [file] } : { module: file, args: [] };
}
