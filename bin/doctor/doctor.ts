import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, readConfigFile } from '../../hardware/core/config-file.ts';
import { loadSettings } from '../hedgerow-settings.ts';
import type { Check, DoctorContext } from './check.ts';
import { tlsFilesCheck, outboxCheck, uplinkCheck } from './checks-gateway.ts';
import { configTxtCheck, gpioCheck, groupsCheck, i2cDeviceCheck, oneWireCheck, sensorsCheck, stationIdCheck } from './checks-station.ts';
import { audioCheck, clockCheck, nfcReaderCheck, unitsCheck } from './checks-system.ts';
import { createMachine, lookUpUser, type Machine } from './machine.ts';
import { maskSecrets, type CheckResult, type DoctorReport } from './report.ts';

/**
 * `hedgerow doctor`: why a station does not report, one check at a time, each with what it found and
 * the fix in one line. It changes nothing unless given --fix, and then only the safe fixes it names.
 */

/** The checks in the order a student would look: config, boot config and buses, sensors, outbox, uplink, system. */
export const CHECKS: readonly Check[] = [
  stationIdCheck,
  configTxtCheck,
  i2cDeviceCheck,
  sensorsCheck,
  oneWireCheck,
  gpioCheck,
  groupsCheck,
  outboxCheck,
  uplinkCheck,
  tlsFilesCheck,
  clockCheck,
  nfcReaderCheck,
  audioCheck,
  unitsCheck,
];

/** The config deploy/install.sh writes and the unit runs with; doctor reads it when --config is not given. */
export const INSTALLED_CONFIG = '/etc/hedgerow/hedgerow.yaml';

/** The user deploy/install.sh runs the service as. */
export const DEFAULT_SERVICE_USER = 'hedgerow';

export interface DoctorOptions {
  configFile: string | undefined;
  fix: boolean;
  log: Logger;
  serviceUser?: string;
  machine?: Machine;
}

/** Thrown for --fix without root on a real machine; the CLI prints it and exits 2. */
export class DoctorFixRefused extends Error {
  override readonly name = 'DoctorFixRefused';
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const machine = options.machine ?? createMachine();
  const serviceUser = options.serviceUser ?? DEFAULT_SERVICE_USER;
  // Under a test root the files are the caller's own; on a Pi the fixes touch /boot and other users' files.
  if (options.fix && machine.root === '/' && !machine.isRoot) {
    throw new DoctorFixRefused(`--fix changes system files: run it as root, sudo hedgerow${options.configFile ? ` --config ${options.configFile}` : ''} doctor --fix (without --fix it only looks)`);
  }
  // What the unit runs with: a student who types `sudo hedgerow doctor` means the station's own config.
  const installed = machine.path(INSTALLED_CONFIG);
  const configFile = options.configFile ?? (existsSync(installed) ? installed : undefined);
  const results: CheckResult[] = [];
  const config = { id: 'config', title: 'the config file parses' };
  let ctx: DoctorContext;
  try {
    const settings = loadSettings(configFile);
    const raw = configFile ? readConfigFile(configFile) : {};
    ctx = {
      configFile,
      raw: raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {},
      settings,
      machine,
      serviceUser,
      user: lookUpUser(machine, serviceUser),
      fix: options.fix,
      log: options.log,
    };
    const which = configFile === undefined ? `no --config and no ${installed}: every key has its default` : `${configFile}${options.configFile ? '' : ' (the installed config; --config FILE for another)'} parses`;
    results.push({ ...config, status: 'ok', found: which, fix: null, fixed: [] });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    results.push({ ...config, status: 'fail', found: maskSecrets(error.message), fix: 'fix each key named above, then run hedgerow doctor again', fixed: [] });
    for (const check of CHECKS) results.push({ id: check.id, title: check.title, status: 'skip', found: 'not checked: the config file does not parse', fix: null, fixed: [] });
    return report(configFile, options.fix, machine, serviceUser, results);
  }
  for (const check of CHECKS) {
    let finding;
    try {
      finding = await check.run(ctx);
    } catch (error) {
      // One broken check must not hide the others' findings.
      finding = { status: 'fail' as const, found: `the check itself failed: ${(error as Error).message}`, fix: 'report this with the output of hedgerow doctor --json' };
    }
    results.push({ id: check.id, title: check.title, status: finding.status, found: maskSecrets(finding.found), fix: finding.fix ? maskSecrets(finding.fix) : null, fixed: finding.fixed ?? [] });
  }
  return report(configFile, options.fix, machine, serviceUser, results);
}

function report(configFile: string | undefined, fix: boolean, machine: Machine, serviceUser: string, checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.status !== 'fail'), config: configFile ?? null, root: machine.root, serviceUser, fix, checks };
}

const MARK: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The report as lines for a person: one per check, its fix and what --fix did indented below it. */
export function formatReport(report: DoctorReport): string[] {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]}  ${check.title}: ${check.found}`);
    for (const done of check.fixed) lines.push(`      fixed: ${done}`);
    if (check.fix && check.status !== 'ok') lines.push(`      fix: ${check.fix}`);
  }
  const count = (status: CheckResult['status']) => report.checks.filter((c) => c.status === status).length;
  lines.push(`${count('fail')} failed, ${count('warn')} warnings, ${count('ok')} ok, ${count('skip')} skipped`);
  return lines;
}

/** `hedgerow doctor [--json] [--fix]`: prints the report and returns the exit status (0 when nothing failed). */
export async function doctorCommand(options: { configFile: string | undefined; json: boolean; fix: boolean; log: Logger; write: (text: string) => void; warn: (text: string) => void }): Promise<number> {
  let result: DoctorReport;
  try {
    result = await runDoctor({ configFile: options.configFile, fix: options.fix, log: options.log });
  } catch (error) {
    if (!(error instanceof DoctorFixRefused)) throw error;
    options.warn(`hedgerow doctor: ${error.message}\n`);
    return 2;
  }
  options.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatReport(result).join('\n')}\n`);
  return result.ok ? 0 : 1;
}
