import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { BinaryLike, ScryptOptions } from 'node:crypto';
import { z } from 'zod';

/**
 * Who may log in to the embedded broker, and what each login may publish. A station's username is its
 * station id and it may publish only under `dt/<app>/<its id>/…`, so one station cannot report as
 * another (the same rule as mosquitto's `pattern write dt/+/%u/#`, gateway/broker-mosquitto.ts).
 * Passwords are kept as scrypt hashes, never as text.
 */

/** scrypt's cost: N=2^14, r=8, p=1 (16 MB; 70 ms a hash on this x86 build machine at load 8, more on a Pi), once per connection. */
const SCRYPT = { N: 16_384, r: 8, p: 1, keyBytes: 32, saltBytes: 16 } as const;
const HASH_FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** A station id as a username: one topic level, no wildcards. */
export const stationUsername = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a station id as a username: letters, digits, ".", "_" or "-", at most 64, no "/", "+" or "#"');

/** A password hash as `hedgerow broker hash-password` prints it: scrypt$N$r$p$salt$hash (base64). */
export const passwordHash = z.string().regex(HASH_FORMAT, 'not a password hash: make one with `hedgerow broker hash-password` (scrypt$N$r$p$salt$hash), never the password itself');

/** A map keyed by station id; a bad id is reported at its own key, with what an id may hold. */
export function byStation<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      const id = stationUsername.safeParse(key);
      if (!id.success) ctx.addIssue({ code: 'custom', path: [key], message: id.error.issues[0]?.message ?? 'not a station id' });
    }
  });
}

/** `broker.users`: station id -> scrypt password hash. */
export const brokerUsers = byStation(passwordHash);
export type BrokerUsers = z.output<typeof brokerUsers>;

/** Hashes a password for `broker.users` (a fresh random salt each time). */
export function hashPassword(password: string): string {
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = scryptSync(password, salt, SCRYPT.keyBytes, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** scrypt in libuv's thread pool: a room of stations reconnecting after an outage must not stall the broker. */
function scryptAsync(password: BinaryLike, salt: BinaryLike, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** True when `password` matches `hash` (from hashPassword), compared in constant time. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(hash);
  if (!match) return false;
  const [, n, r, p, salt, expected] = match;
  const want = Buffer.from(expected!, 'base64');
  const got = await scryptAsync(password, Buffer.from(salt!, 'base64'), want.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 ** 2 });
  return timingSafeEqual(got, want);
}

/** True when a station may publish to `topic`: `dt/<app>/<station>/<at least one level>`. */
export function stationMayPublish(station: string, topic: string): boolean {
  const levels = topic.split('/');
  return levels.length >= 4 && levels[0] === 'dt' && levels[1] !== '' && levels[2] === station && levels.slice(3).every((level) => level !== '');
}

/** The logins: stations from broker.users, and the one admin login (the engine) from broker.username/password. */
export interface BrokerLogins {
  users: BrokerUsers;
  admin?: { username: string; password: string };
}

/** What a login is: a station, limited to its own topics, or the admin, who may publish anywhere. */
export type BrokerRole = { kind: 'station'; station: string } | { kind: 'admin' };

/** Checks a username and password; returns the role, or why it was refused. */
export async function authenticateLogin(logins: BrokerLogins, username: string | undefined, password: Buffer | undefined): Promise<BrokerRole | string> {
  if (username === undefined || password === undefined) return 'no username or password (this broker gives each station its own login)';
  const text = password.toString();
  if (logins.admin && sameSecret(username, logins.admin.username)) {
    return sameSecret(text, logins.admin.password) ? { kind: 'admin' } : `wrong password for ${username}`;
  }
  const hash = Object.hasOwn(logins.users, username) ? logins.users[username] : undefined;
  if (hash === undefined) return `unknown user ${username} (add it to broker.users)`;
  return (await verifyPassword(text, hash)) ? { kind: 'station', station: username } : `wrong password for ${username}`;
}

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
