import { describe, expect, it } from 'vitest';
import { modelDeviations } from '../../../cloud/api/model/deviations.ts';
import { operationShapes } from '../../../cloud/api/model/operations.ts';
import { compareShapes, loadModel } from './model-walk.ts';

/** Issue 9: every operation's request and response schema against botocore's service model. */

const model = loadModel();
const ours: Record<string, { input: Parameters<typeof compareShapes>[3]; output: Parameters<typeof compareShapes>[3] | undefined }> = operationShapes;

function differences(): Set<string> {
  const found = new Set<string>();
  for (const [name, operation] of Object.entries(model.operations)) {
    const shapes = ours[name];
    if (!shapes) {
      found.add(`operation ${name}: no schemas`);
      continue;
    }
    if (operation.input) compareShapes(model, 'in', operation.input.shape, shapes.input, found);
    if (operation.output && shapes.output) compareShapes(model, 'out', operation.output.shape, shapes.output, found);
    if ((operation.output === undefined) !== (shapes.output === undefined)) found.add(`operation ${name}: output ${operation.output ? 'missing' : 'not in the model'}`);
  }
  return found;
}

describe("the API schemas against botocore's service-2.json", () => {
  it('has schemas for exactly the operations of the model', () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(model.operations).sort());
  });

  it('differs only where the deviation table says, and every entry there is still a difference', () => {
    const found = [...differences()].sort();
    const listed = modelDeviations.map((d) => d.at).sort();
    expect(found.filter((d) => !listed.includes(d)), 'differences not in cloud/api/model/deviations.ts').toEqual([]);
    expect(listed.filter((d) => !found.includes(d)), 'table entries that are no longer differences').toEqual([]);
  });

  it('lists each deviation once, with a reason', () => {
    const at = modelDeviations.map((d) => d.at);
    expect(new Set(at).size).toBe(at.length);
    for (const d of modelDeviations) expect(d.reason.length, d.at).toBeGreaterThan(20);
  });
});
