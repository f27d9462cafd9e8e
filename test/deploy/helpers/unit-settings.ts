import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A setting of the systemd units (NODE_OPTIONS, node's flags), from the line of deploy/install.sh the units are written from. */
export function unitSetting(root: string, name: 'node_options' | 'node_flags'): string {
  const line = new RegExp(`^${name}='([^']*)'$`, 'm').exec(readFileSync(join(root, 'deploy/install.sh'), 'utf8'));
  if (!line) throw new Error(`deploy/install.sh has no ${name}='…' line: the tests and benches run node with the unit's settings`);
  return line[1]!;
}
