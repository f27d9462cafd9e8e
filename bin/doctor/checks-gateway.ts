import { chmodSync, chownSync, existsSync, readFileSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { outboxPath } from '../../gateway/gateway.ts';
import { prepareOutboxFolder } from '../../gateway/outbox-path.ts';
import { findDamage } from '../../gateway/outbox-quarantine.ts';
import { formatStatus, readStatus, type StatusReport } from '../../gateway/status.ts';
import { noUser, type Check, type DoctorContext } from './check.ts';
import { modeString, statOrNull, userMay } from './machine.ts';
import type { Finding } from './report.ts';
import { probeUplink } from './uplink-probe.ts';

/** The gateway's checks: the outbox folder and queue, the broker, the certificate and key files. */

/** A certificate that expires sooner than this is worth a warning (IoT Core certificates are rotated by hand). */
const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;
/** Below this much free disk the outbox folder is worth a warning even with no cap. */
const MIN_FREE_BYTES = 64 * 1024 ** 2;

export const outboxCheck: Check = {
  id: 'outbox',
  title: 'the outbox folder is writable and the queue is healthy',
  async run(ctx) {
    const { settings } = ctx;
    const path = outboxPath(settings.outbox, settings.dataDir);
    const folder = dirname(path);
    const fixed: string[] = [];
    if (!existsSync(folder)) {
      if (!ctx.fix) return { status: 'fail', found: `the outbox folder ${folder} does not exist`, fix: 'sudo hedgerow doctor --fix creates it, owned by the service user' };
      try {
        prepareOutboxFolder(path);
      } catch (error) {
        return { status: 'fail', found: (error as Error).message, fix: 'set outbox.path or dataDir to a folder on the SD card' };
      }
      if (ctx.user) chownSync(folder, ctx.user.uid, ctx.user.gid);
      fixed.push(`created ${folder}${ctx.user ? `, owned by ${ctx.user.name}` : ''}`);
    }
    const stats = statOrNull(folder);
    if (ctx.user === null) return noUser(ctx);
    if (stats === null || !stats.isDirectory() || !userMay(ctx.user, stats, 'w')) {
      return { status: 'fail', found: `${ctx.user.name} cannot write the outbox folder ${folder}${stats ? ` (mode ${modeString(stats)})` : ''}`, fix: `sudo chown ${ctx.user.name}: ${folder}`, fixed };
    }
    if (!existsSync(path)) return { status: 'ok', found: `${folder} is writable by ${ctx.user.name}; no outbox yet (the station makes ${path} at its first record)`, fixed };
    let report;
    let damage;
    try {
      // The check the station runs when it opens the outbox, read-only: a damaged file is only named here.
      damage = findDamage({ path, log: ctx.log, integrityCheck: ctx.settings.outbox.integrityCheck === 'off' ? 'quick' : ctx.settings.outbox.integrityCheck });
      report = damage === null ? readStatus(path, ctx.log) : null;
    } catch (error) {
      return { status: 'fail', found: `cannot read the outbox ${path}: ${(error as Error).message}`, fix: `check the file's owner and mode (ls -l ${path})`, fixed };
    }
    if (report === null) {
      return { status: 'fail', found: `the outbox ${path} is damaged (${damage})`, fix: 'restart the station: it moves the damaged file aside (nothing is deleted) and starts a fresh one', fixed };
    }
    return outboxFinding(ctx, report, freeBytes(folder), fixed);
  },
};

function freeBytes(folder: string): number | null {
  try {
    const fs = statfsSync(folder);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

/** `hedgerow status`'s lines, the share of the cap, and the free disk; a warning for drops, a nearly full cap or disk. */
function outboxFinding(ctx: DoctorContext, report: StatusReport, free: number | null, fixed: string[]): Finding {
  const { outbox } = report;
  const cap = ctx.settings.outbox.capBytes;
  const share = cap === 0 ? 'no cap (outbox.capBytes 0)' : `${Math.round((outbox.bytes / cap) * 100)}% of the ${cap}-byte cap`;
  const disk = free === null ? '' : `, ${Math.round(free / 1024 ** 2)} MiB free on its disk`;
  const found = `${formatStatus(report).join('; ')}; ${share}${disk}`;
  if (outbox.droppedRecords > 0) return { status: 'warn', found, fix: 'records were dropped at the cap while the uplink was away: check the uplink below, or raise outbox.capBytes', fixed };
  if (cap > 0 && outbox.bytes > cap * 0.8) return { status: 'warn', found, fix: 'the outbox is nearly full: check the uplink below, or raise outbox.capBytes', fixed };
  if (free !== null && free < Math.max(cap - outbox.bytes, MIN_FREE_BYTES)) {
    return { status: 'warn', found, fix: 'the disk fills before the cap does: free space on the SD card, or lower outbox.capBytes', fixed };
  }
  return { status: 'ok', found, fixed };
}

export const uplinkCheck: Check = {
  id: 'uplink',
  title: 'the uplink reaches its broker (TCP, TLS, MQTT login)',
  async run({ settings, log }) {
    if (!settings.uplink.enabled) return { status: 'skip', found: 'uplink.enabled is false: records stay in the outbox' };
    return probeUplink(settings.uplink, settings.station.id, log);
  },
};

export const tlsFilesCheck: Check = {
  id: 'tls-files',
  title: 'the certificate and key files are private to the service user and not expiring',
  async run(ctx) {
    const { tls } = ctx.settings.uplink;
    const files = [
      { key: 'uplink.tls.cert', path: tls.cert, secret: false },
      { key: 'uplink.tls.key', path: tls.key, secret: true },
    ].filter((file): file is { key: string; path: string; secret: boolean } => file.path !== undefined);
    if (files.length === 0) return { status: 'skip', found: 'no client certificate (uplink.tls.cert/key) is configured' };
    if (ctx.user === null) return noUser(ctx);
    const user = ctx.user;
    const fixed: string[] = [];
    const problems: Finding[] = [];
    for (const file of files) {
      let stats = statOrNull(file.path)!;
      const loose = (stats.mode & 0o077) !== 0;
      const unreadable = !userMay(user, stats, 'r');
      if ((loose || unreadable) && ctx.fix) {
        chmodSync(file.path, 0o600);
        chownSync(file.path, user.uid, user.gid);
        fixed.push(`${file.path}: mode ${modeString(stats)} → 0600, owner ${user.name} (was uid ${stats.uid})`);
        stats = statOrNull(file.path)!;
      }
      if (!userMay(user, stats, 'r')) problems.push({ status: 'fail', found: `${file.key} ${file.path} is not readable by ${user.name} (owner uid ${stats.uid}, mode ${modeString(stats)})`, fix: `sudo chown ${user.name}: ${file.path} (or sudo hedgerow doctor --fix)` });
      else if ((stats.mode & 0o077) !== 0) problems.push({ status: 'warn', found: `${file.key} ${file.path} has mode ${modeString(stats)}: others on this Pi can read it`, fix: `sudo chmod 600 ${file.path} (or sudo hedgerow doctor --fix)` });
    }
    const expiry = certificateExpiry(tls.cert);
    if (expiry) problems.push(expiry);
    const shown = files.map((f) => `${f.key} ${f.path}`).join(', ');
    if (problems.length === 0) return { status: 'ok', found: `${shown}: mode 0600, readable by ${user.name}`, fixed };
    const status = problems.some((p) => p.status === 'fail') ? 'fail' : 'warn';
    return { status, found: problems.map((p) => p.found).join('; '), fix: problems.map((p) => p.fix).join('; '), fixed };
  },
};

function certificateExpiry(path: string | undefined, now = Date.now()): Finding | null {
  if (path === undefined) return null;
  const cert = new X509Certificate(readFileSync(path));
  const ends = Date.parse(cert.validTo);
  if (ends < now) return { status: 'fail', found: `the certificate ${path} expired on ${new Date(ends).toISOString()}`, fix: 'make a new certificate (./deploy.sh aws --thing NAME for IoT Core) and set uplink.tls.cert/key' };
  if (ends - now < EXPIRY_WARNING_DAYS * DAY_MS) return { status: 'warn', found: `the certificate ${path} expires on ${new Date(ends).toISOString()}, within ${EXPIRY_WARNING_DAYS} days`, fix: 'make a new certificate before then and set uplink.tls.cert/key' };
  return null;
}
