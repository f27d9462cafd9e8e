import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { byStation, stationUsername } from './broker-users.ts';

/**
 * Writes a school mosquitto's password file and ACL, so each station logs in as itself and publishes
 * only under dt/<app>/<its id>/…, the rule the embedded broker applies (gateway/broker-users.ts).
 * Hashing is left to mosquitto_passwd, so the file is in the format the installed mosquitto reads.
 */

/** No newline (one login a line) and no NUL; mosquitto_passwd splits user from password at the first ":". */
const password = z.string().min(8, 'at least 8 characters').regex(/^[^\n\r\0]+$/, 'no line breaks');

export const mosquittoLogins = z
  .object({
    /** Station id -> password. */
    stations: byStation(password),
    /** The engine's login: reads every dt/ topic, publishes only its alerts (dt/alerts/#). */
    engine: z.object({ username: stationUsername, password }).optional(),
  })
  .refine((logins) => !logins.engine || !Object.hasOwn(logins.stations, logins.engine.username), {
    message: 'the engine user must not also be a station',
    path: ['engine', 'username'],
  });
export type MosquittoLogins = z.input<typeof mosquittoLogins>;

/** The ACL: any login writes only under its own id; the engine reads all of dt/ and writes its alerts. */
export function mosquittoAcl(engineUser?: string): string {
  const lines = [
    '# Written by hedgerow (gateway/broker-mosquitto.ts). Each station logs in with its station id as',
    '# username and may publish only under dt/<app>/<its id>/, its retained status included.',
    'pattern write dt/+/%u/#',
  ];
  // The engine publishes its retained alerts under dt/alerts/ (alerts.mqtt.topicPrefix's default).
  if (engineUser !== undefined) lines.push('', `user ${engineUser}`, 'topic read dt/#', 'topic write dt/alerts/#');
  return `${lines.join('\n')}\n`;
}

/** Writes `passwd` (mode 0600) and `acl` into `dir`; returns their paths for password_file and acl_file. */
export function writeMosquittoFiles(dir: string, input: MosquittoLogins): { passwordFile: string; aclFile: string } {
  const parsed = mosquittoLogins.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.map(String).join('.')}: ${issue.message}`);
    throw new Error(`cannot write the mosquitto logins:\n${lines.join('\n')}`);
  }
  const logins = parsed.data;
  mkdirSync(dir, { recursive: true });
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const entries = Object.entries(logins.stations);
  if (logins.engine) entries.push([logins.engine.username, logins.engine.password]);
  // Plain text only for the moment mosquitto_passwd -U hashes it in place, mode 0600 and never on a
  // command line (where ps would show it); the old file is replaced only once the new one is hashed.
  const pending = `${passwordFile}.new`;
  writeFileSync(pending, entries.map(([user, secret]) => `${user}:${secret}\n`).join(''), { mode: 0o600 });
  chmodSync(pending, 0o600);
  try {
    execFileSync('mosquitto_passwd', ['-U', pending], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(pending, { force: true });
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'mosquitto_passwd is not installed: apt install mosquitto' : String((error as { stderr?: Buffer }).stderr ?? error);
    throw new Error(`cannot write the mosquitto password file: ${reason}`, { cause: error });
  }
  renameSync(pending, passwordFile);
  writeFileSync(aclFile, mosquittoAcl(logins.engine?.username), { mode: 0o644 });
  return { passwordFile, aclFile };
}
