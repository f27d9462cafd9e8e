// The stamp that names a build of the sources: a hash of the path, size and modification time of
// every source file. A build lives in dist/<stamp>/, so "is the build fresh?" is one existsSync, and
// computing the stamp costs a few milliseconds (one stat per file, no reads). Plain JavaScript: the
// `hedgerow` command runs it before it knows whether to load the build or tsx.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders bundled into dist/, and the files beside them that change what esbuild makes. */
export const SOURCE_FOLDERS = ['bin', 'hardware', 'device', 'gateway', 'cloud'];
const SOURCE_FILES = ['tsconfig.json'];
const SOURCE_EXTENSION = /\.(ts|mts|js|mjs|json|css)$/;
/** Never sources, wherever they appear. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist']);

/** The folder that holds every build. */
export function distDir(root) {
  return join(root, 'dist');
}

/** The folder of the build made from sources with this stamp. */
export function buildDir(root, stamp) {
  return join(distDir(root), stamp);
}

function listSources(root, folder, into) {
  let entries;
  try {
    entries = readdirSync(join(root, folder), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.') || SKIPPED_FOLDERS.has(entry.name)) continue;
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) listSources(root, path, into);
    else if (SOURCE_EXTENSION.test(entry.name)) into.push(path);
  }
}

/** The stamp of the sources under `root` as they are now (16 hex digits). */
export function sourceStamp(root) {
  const files = [...SOURCE_FILES];
  for (const folder of SOURCE_FOLDERS) listSources(root, folder, files);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    let line = `${file}\0missing\n`;
    try {
      const stat = statSync(join(root, file));
      line = `${file}\0${stat.size}\0${stat.mtimeMs}\n`;
    } catch {
      // A file deleted between the listing and the stat hashes as missing; the next start sees it gone.
    }
    hash.update(line);
  }
  return hash.digest('hex').slice(0, 16);
}
