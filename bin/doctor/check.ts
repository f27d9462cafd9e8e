import type { Logger } from 'pino';
import type { HedgerowSettings } from '../hedgerow-settings.ts';
import type { Machine, UserInfo } from './machine.ts';
import type { Finding } from './report.ts';

/** What every check is given: the parsed settings, the machine, the service user, and whether to fix. */
export interface DoctorContext {
  configFile: string | undefined;
  /** The config file as written (before defaults), {} without one; to tell a set key from a default. */
  raw: Record<string, unknown>;
  settings: HedgerowSettings;
  machine: Machine;
  serviceUser: string;
  /** null when the machine has no such user (not installed yet). */
  user: UserInfo | null;
  fix: boolean;
  log: Logger;
}

/** One entry of doctor's table: run in order, each with a finding of ok / warn / fail / skip. */
export interface Check {
  id: string;
  title: string;
  run(ctx: DoctorContext): Promise<Finding>;
}

const INSTALL_FIX = 'sudo ./deploy.sh install (it creates the user and adds it to the groups)';

/** The finding for a check about the service user when there is none. */
export function noUser(ctx: DoctorContext): Finding {
  return { status: 'fail', found: `there is no user ${ctx.serviceUser} on this machine`, fix: `install the station: ${INSTALL_FIX}` };
}
