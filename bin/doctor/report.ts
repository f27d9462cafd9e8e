import { z } from 'zod';

/**
 * What `hedgerow doctor --json` prints: one document a teacher's script or a support ticket can read.
 * It never holds a secret: passwords and keys are masked where a finding would name them.
 */

export const checkStatus = z.enum(['ok', 'warn', 'fail', 'skip']);

export const checkResult = z
  .object({
    /** Stable name of the check, e.g. "config-txt". */
    id: z.string(),
    /** What was checked, in plain words. */
    title: z.string(),
    status: checkStatus,
    /** What the check found. */
    found: z.string(),
    /** One line saying what to do; null when there is nothing to do. */
    fix: z.string().nullable(),
    /** What --fix changed, one line each. */
    fixed: z.array(z.string()),
  })
  .strict();

export const doctorReport = z
  .object({
    /** True when no check failed (the exit status is 0 then). */
    ok: z.boolean(),
    /** The config file read, or null for the defaults. */
    config: z.string().nullable(),
    /** Where system paths were looked up: "/" on a Pi, a test's folder under HEDGEROW_ROOT. */
    root: z.string(),
    /** The user the service runs as, whose groups and file access are checked. */
    serviceUser: z.string(),
    /** Whether --fix was given. */
    fix: z.boolean(),
    checks: z.array(checkResult),
  })
  .strict();

export type CheckStatus = z.output<typeof checkStatus>;
export type CheckResult = z.output<typeof checkResult>;
export type DoctorReport = z.output<typeof doctorReport>;

/** What one check returns; the table in doctor.ts adds its id and title. */
export interface Finding {
  status: CheckStatus;
  found: string;
  fix?: string | null;
  fixed?: string[];
}

/** Keys whose values are secrets. */
const SECRET_KEY = '(?:password|passphrase|secret)';

/**
 * Hides secrets in a finding: a URL's password, the value the settings loader quotes for a secret key
 * ("uplink.password: … (got 1234)"), a secret in the line a YAML error shows, and PEM private keys.
 */
export function maskSecrets(text: string): string {
  return text
    .replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@')
    .replace(new RegExp(`(${SECRET_KEY}\\b[^\\n]*?\\(got )[^\\n]*\\)`, 'gi'), '$1***)')
    .replace(new RegExp(`(the line reads: "\\s*[\\w.-]*${SECRET_KEY}\\s*:)[^\\n]*?"\\)`, 'gi'), '$1 ***")')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[private key]');
}
