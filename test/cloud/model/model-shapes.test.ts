import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { modelDeviations } from '../../../cloud/model/deviations.ts';
import { operationShapes } from '../../../cloud/model/operations.ts';
import { compareShapes, loadModel, MODEL_PATH } from './model-walk.ts';

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
    expect(found.filter((d) => !listed.includes(d)), 'differences not in cloud/model/deviations.ts').toEqual([]);
    expect(listed.filter((d) => !found.includes(d)), 'table entries that are no longer differences').toEqual([]);
  });

  it('lists each deviation once, with a reason', () => {
    const at = modelDeviations.map((d) => d.at);
    expect(new Set(at).size).toBe(at.length);
    for (const d of modelDeviations) expect(d.reason.length, d.at).toBeGreaterThan(20);
  });
});

describe('the comparison itself', () => {
  it('fails with the install hint when the model file is missing, rather than skipping', () => {
    expect(() => loadModel(`${MODEL_PATH}.missing`)).toThrow(/missing at .*service-2\.json\.missing; install it with test\/setup\.sh/);
  });

  it('reports each kind of difference it knows', () => {
    const found = new Set<string>();
    const tagWrong = z.strictObject({ key: z.string().max(255), value: z.number().optional(), colour: z.string() });
    compareShapes(model, 'in', 'Tag', tagWrong, found);
    const listWrong = z.strictObject({ resourceArn: z.string().min(20).max(2048).regex(/^arn:/), tagKeys: z.array(z.string().min(1).max(256)).max(10) });
    compareShapes(model, 'in', 'UntagResourceRequest', listWrong, found);
    compareShapes(model, 'out', 'LoggingOptions', z.strictObject({ roleArn: z.string().min(20).max(2048), level: z.enum(['ERROR', 'INFO']), enabled: z.boolean() }), found);
    expect([...found].sort()).toEqual([
      "in Tag.colour: not in the model",
      "in Tag.key: max: the model's 256, here 255",
      "in Tag.key: min: the model's 1, here none",
      'in Tag.value: required in the model, optional here',
      "in Tag.value: type: the model's string, here double",
      "in UntagResourceRequest.resourceArn: pattern: the model's none, here ^arn:",
      "in UntagResourceRequest.tagKeys: max: the model's 50, here 10",
      "in UntagResourceRequest.tagKeys: min: the model's 1, here none",
      "out LoggingOptions.level: enum: the model's ERROR, here ERROR|INFO",
    ]);
  });
});
