// The host's node_modules in a stand-in Pi, for deploy/release.sh's HEDGEROW_TEST_NODE_MODULES: the release
// links them instead of running `npm ci --omit=dev`, which builds the native modules and took 3-4 minutes
// per machine here. The stand-in runs the host's own Node (machine.ts binds /usr/bin/node in) on the same
// Debian release, so the host's native builds load there as they are.
//
// Only the tests that are about something else link them: pi.test.ts keeps the one real `npm ci` in a
// machine (offline, from a copy of the host's npm cache), and checks that the modules were built there.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { BootOptions } from './machine.ts';

/**
 * Where the host's node_modules appear in the machine: a fixed path outside /tmp, since the units'
 * PrivateTmp hides a checkout under /tmp (CI's clone was one) from the service. Its last part must be
 * node_modules: packages find their siblings (esbuild its binary) by Node's node_modules lookup.
 */
export const MODULES_IN_MACHINE = '/opt/hedgerow-test/node_modules';

/** The checkout's node_modules, resolved (it may be a link to another checkout's). */
export function hostModules(checkout = process.cwd()): string {
  return realpathSync(join(checkout, 'node_modules'));
}

/**
 * Boot options for a card's first boot with the host's modules: the folder bound in read-only, and a test
 * drop-in that gives hedgerow-firstboot.service (and so install.sh under it) HEDGEROW_TEST_NODE_MODULES.
 * The card, firstboot.sh and install.sh are the ones a Pi gets; only this injected drop-in differs.
 */
export function firstBootWithHostModules(): Pick<BootOptions, 'files' | 'bindReadOnly'> {
  return {
    files: { '/etc/systemd/system/hedgerow-firstboot.service.d/test-host-modules.conf': `[Service]\nEnvironment=HEDGEROW_TEST_NODE_MODULES=${MODULES_IN_MACHINE}\n` },
    bindReadOnly: [`${hostModules()}:${MODULES_IN_MACHINE}`],
  };
}
