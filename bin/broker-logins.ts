/**
 * `hedgerow broker hash-password` and `hedgerow broker mosquitto-files`: one login per station, for the
 * embedded broker (broker.users) and for a school's mosquitto. Passwords come on stdin, never as
 * arguments, where `ps` and the shell history would keep them. The gateway code loads only when one runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

function readStdin(what: string): string {
  if (process.stdin.isTTY) process.stderr.write(`${what}, then Ctrl-D:\n`);
  return readFileSync(0, 'utf8');
}

export function addBrokerLoginCommands(broker: Command): void {
  broker
    .command('hash-password')
    .description('print the scrypt hash of the password on stdin, for broker.users (e.g. echo "$PW" | hedgerow broker hash-password --station hilltop)')
    .option('--station <id>', 'print a ready "id: hash" line for broker.users')
    .action(async (opts: { station?: string }) => {
      const { hashPassword, stationUsername } = await import('../gateway/broker-users.ts');
      const password = readStdin('the password').replace(/\r?\n$/, '');
      if (password === '') throw new Error('no password on stdin: echo "$PASSWORD" | hedgerow broker hash-password');
      if (opts.station !== undefined) {
        const station = stationUsername.safeParse(opts.station);
        if (!station.success) throw new Error(`--station ${opts.station}: ${station.error.issues[0]?.message ?? 'not a station id'}`);
      }
      const hash = hashPassword(password);
      process.stdout.write(opts.station === undefined ? `${hash}\n` : `${opts.station}: "${hash}"\n`);
    });

  broker
    .command('mosquitto-files')
    .description('write a mosquitto password file and ACL (each station publishes only under dt/<app>/<its id>/) from "id:password" lines on stdin')
    .requiredOption('--dir <dir>', 'folder for passwd and acl, e.g. /etc/mosquitto/hedgerow')
    .option('--engine-user <name>', 'the line with this name is the engine: it reads dt/# and publishes only its alerts (dt/alerts/#)')
    .action(async (opts: { dir: string; engineUser?: string }) => {
      const { writeMosquittoFiles } = await import('../gateway/broker-mosquitto.ts');
      const stations: Record<string, string> = {};
      let engine: { username: string; password: string } | undefined;
      for (const [index, line] of readStdin('one "station-id:password" a line').split(/\r?\n/).entries()) {
        if (line.trim() === '') continue;
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`stdin line ${index + 1}: expected "station-id:password"`);
        const [user, password] = [line.slice(0, colon), line.slice(colon + 1)];
        if (user === opts.engineUser) engine = { username: user, password };
        else stations[user] = password;
      }
      if (opts.engineUser !== undefined && engine === undefined) throw new Error(`no "${opts.engineUser}:password" line on stdin for --engine-user`);
      const { passwordFile, aclFile } = writeMosquittoFiles(opts.dir, { stations, ...(engine ? { engine } : {}) });
      process.stdout.write(`wrote ${passwordFile} (${Object.keys(stations).length} stations${engine ? ' and the engine' : ''}) and ${aclFile}; in mosquitto.conf:\n  allow_anonymous false\n  password_file ${passwordFile}\n  acl_file ${aclFile}\n`);
    });
}
