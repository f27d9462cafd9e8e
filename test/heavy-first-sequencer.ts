// vitest's file order for this suite: the files that boot a stand-in Pi (test/deploy/helpers/machine.ts) and
// the end-to-end tests start first, the rest follow in vitest's own order.
//
// Why: with no results cache (CI's fresh clone has none) vitest runs the largest files first, and the
// machine tests are small files that run for minutes each. They used to start last, so one of them alone
// was the end of the run: sdcard-cloud-init started at 569 s of a 999 s run and ran for 430 s. Started
// first, the short files fill the other worker around them. Among the heavy files, and among the rest,
// vitest's order stands: longest first by its cache when there is one, else largest first.
import { readFileSync } from 'node:fs';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/** A file that boots a stand-in Pi, or an end-to-end test: each runs for a minute or more. */
export function isHeavyTestFile(path: string): boolean {
  return /\/test\/e2e\//.test(path) || readFileSync(path, 'utf8').includes('Machine.boot(');
}

export class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const heavy = sorted.filter((file) => isHeavyTestFile(file.moduleId));
    return [...heavy, ...sorted.filter((file) => !heavy.includes(file))];
  }
}
