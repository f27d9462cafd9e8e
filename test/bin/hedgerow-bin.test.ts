import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The `hedgerow` command's choice between the build in dist/ and tsx, on a copy of the package in a
 * temp folder (its own dist/, sources the test may edit; node_modules linked to this one's).
 */

const REPO = join(import.meta.dirname, '../..');
const SOURCES = ['bin', 'hardware', 'device', 'gateway', 'cloud', 'package.json', 'tsconfig.json'];
const copies: string[] = [];

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-bin-'));
  copies.push(dir);
  for (const name of SOURCES) cpSync(join(REPO, name), join(dir, name), { recursive: true, preserveTimestamps: true, filter: (from) => !from.endsWith('/dist') });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function hedgerow(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(dir, 'bin/hedgerow.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

function hedgerowAsync(dir: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(dir, 'bin/hedgerow.js'), ...args], { cwd: dir });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const builds = (dir: string) => readdirSync(join(dir, 'dist')).sort();
/** The build folder of the sources as they are now (the build script prints it, building only if needed). */
function currentBuild(dir: string): string {
  const run = spawnSync(process.execPath, [join(dir, 'bin/build.js'), '--quiet'], { cwd: dir, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim();
}
const MARK = 'ran the build in dist';
/** Makes the current build announce itself, so a run shows which code it loaded. */
const markBuild = (dir: string) => appendFileSync(join(currentBuild(dir), 'cli.js'), `\nprocess.stderr.write(${JSON.stringify(`${MARK}\n`)});\n`);

describe('hedgerow (bin): build in dist/ or tsx', () => {
  it('builds dist/ on the first run and then runs the build while the sources are unchanged', () => {
    const dir = copyPackage();
    const first = hedgerow(dir, ['--help']);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Usage: hedgerow/);
    expect(first.stderr).toBe('');
    const build = currentBuild(dir);
    expect(builds(dir)).toEqual([basename(build)]);
    for (const file of ['cli.js', 'sqlite-query-process.js', 'lambda-worker.js']) expect(existsSync(join(build, file)), file).toBe(true);
    markBuild(dir);
    const second = hedgerow(dir, ['--help']);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe(`${MARK}\n`);
    expect(builds(dir)).toHaveLength(1);
  });

  it('rebuilds before running when a source changed, so an edit is never hidden by an old build', () => {
    const dir = copyPackage();
    expect(hedgerow(dir, ['--help']).status).toBe(0);
    markBuild(dir);
    const cli = join(dir, 'bin/cli.ts');
    writeFileSync(cli, readFileSync(cli, 'utf8').replace("'Hedgerow: weather station", "'Hedgerow (edited): weather station"));
    const edited = hedgerow(dir, ['--help']);
    expect(edited.status).toBe(0);
    expect(edited.stdout).toMatch(/Hedgerow \(edited\): weather station/);
    expect(edited.stderr).not.toContain(MARK);
    expect(builds(dir)).toHaveLength(2);
    expect(builds(dir)).toContain(basename(currentBuild(dir)));
  });

  it('starts several at once on changed sources: each runs, and one complete build is left', async () => {
    const dir = copyPackage();
    const runs = await Promise.all([1, 2, 3].map(() => hedgerowAsync(dir, ['--help'])));
    for (const run of runs) {
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/Usage: hedgerow/);
      expect(run.stderr).toBe('');
    }
    expect(builds(dir)).toEqual([basename(currentBuild(dir))]);
  });

  it('runs the sources through tsx, saying why and how to fix it, when dist/ cannot be written', () => {
    const dir = copyPackage();
    // A file where the folder should be: mkdir fails with ENOTDIR, even for root (the tests run as root).
    writeFileSync(join(dir, 'dist'), 'not a folder');
    const run = hedgerow(dir, ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Usage: hedgerow/);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hedgerow: running the TypeScript sources through tsx .* cannot write .*dist \(ENOTDIR\)\. Fix: npm run build/);
  });

  it('HEDGEROW_FROM_SOURCE=1 runs the sources through tsx without building', () => {
    const dir = copyPackage();
    const run = hedgerow(dir, ['--help'], { HEDGEROW_FROM_SOURCE: '1' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Usage: hedgerow/);
    expect(run.stderr).toBe('');
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });

  it('npm run build reports a source that does not compile, naming the file and line, and leaves no build', () => {
    const dir = copyPackage();
    appendFileSync(join(dir, 'gateway/backoff.ts'), '\nexport const broken = ;\n');
    const run = spawnSync(process.execPath, [join(dir, 'bin/build.js')], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/hedgerow build: the sources do not compile: gateway\/backoff\.ts:\d+: /);
    expect(readdirSync(join(dir, 'dist'))).toEqual([]);
  });
});
