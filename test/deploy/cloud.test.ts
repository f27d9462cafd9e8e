import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// deploy.sh cloud without a machine: --dry-run and the storage it takes or refuses.
const deploy = (...args: string[]) => spawnSync('bash', ['deploy.sh', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('deploy.sh cloud', () => {
  it('--dry-run prints an install of the engine role with its API port', () => {
    const run = deploy('cloud', 'admin@engine.school.example', '--api-port', '8781', '--storage', 'sqlite', '--dry-run');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => line.startsWith('+ '));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/install\\ --role\\ cloud\\ --api-port\\ 8781/);
    expect(run.stdout).not.toMatch(/done:/);
  });

  it('passes a PostgreSQL URL on to the install, and refuses other storage with what is allowed', () => {
    const run = deploy('cloud', 'admin@engine', '--storage', 'postgres://hedgerow@db.school/hedgerow', '--dry-run');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/install\\ --role\\ cloud\\ --storage\\ postgres:\/\/hedgerow@db.school\/hedgerow/);
    const mysql = deploy('cloud', 'admin@engine', '--storage', 'mysql://root:hunter2@db/x');
    expect(mysql.status).toBe(2);
    expect(mysql.stderr).toBe("deploy.sh: --storage must be sqlite or a PostgreSQL URL such as postgres://hedgerow@db.school/hedgerow, not 'mysql://root:***@db/x'\n");
    expect(deploy('cloud', 'admin@engine', '--api-port', '99999').stderr).toMatch(/--api-port must be a port number/);
  });

  it('prints its help from its script', () => {
    for (const sub of ['pi', 'cloud']) {
      const help = deploy(sub, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^deploy\\.sh ${sub}: `));
      expect(help.stdout).toMatch(/--dry-run/);
    }
  });
});
