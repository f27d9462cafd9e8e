import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../../cloud/engine/errors.ts';
import { buildPipelineGraph } from '../../../cloud/engine/pipeline-graph.ts';

const channel = (next = 'f') => ({ channel: { name: 'c', channelName: 'ch', next } });
const filter = (name: string, next: string) => ({ filter: { name, filter: 'a > 1', next } });
const datastore = (name = 'd') => ({ datastore: { name, datastoreName: 'ds' } });

function reason(activities: unknown): string {
  try {
    buildPipelineGraph(activities);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestException);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('pipeline graph', () => {
  it('orders activities from the channel to the datastore whatever order they are listed in', () => {
    const graph = buildPipelineGraph([datastore(), filter('g', 'd'), channel('f'), filter('f', 'g')]);
    expect(graph.ordered.map((a) => a.name)).toEqual(['c', 'f', 'g', 'd']);
    expect(graph.channelName).toBe('ch');
    expect(graph.datastoreName).toBe('ds');
  });

  it('accepts the smallest pipeline: a channel straight into a datastore', () => {
    expect(buildPipelineGraph([channel('d'), datastore()]).ordered).toHaveLength(2);
  });

  it('rejects a pipeline without a channel', () => expect(reason([filter('f', 'd'), datastore()])).toMatch(/exactly one channel activity, found 0/));
  it('rejects two datastores', () => expect(reason([channel('d'), datastore('d'), datastore('e')])).toMatch(/exactly one datastore activity, found 2/));
  it('rejects a cycle', () => expect(reason([channel('f'), filter('f', 'g'), filter('g', 'f'), datastore()])).toMatch(/cycle through "f"/));
  it('rejects a dangling next', () => expect(reason([channel('f'), filter('f', 'nowhere'), datastore()])).toMatch(/next "nowhere", but no activity has that name/));
  it('rejects an activity off the chain', () =>
    expect(reason([channel('d'), filter('f', 'd'), datastore()])).toMatch(/"f" are not on the chain/));
  it('rejects an activity with no next before the datastore', () =>
    expect(reason([channel('f'), { filter: { name: 'f', filter: 'a > 1' } }, datastore()])).toMatch(/"f" has no next/));
  it('rejects duplicate activity names', () => expect(reason([channel('d'), datastore('c')])).toMatch(/two activities are named "c"/));
  it('rejects more than 25 activities', () => {
    const many = [channel('f0'), ...Array.from({ length: 24 }, (_, i) => filter(`f${i}`, i === 23 ? 'd' : `f${i + 1}`)), datastore()];
    expect(many).toHaveLength(26);
    expect(reason(many)).toMatch(/2 to 25 activities/);
  });
  it('rejects fewer than 2 activities', () => expect(reason([channel('d')])).toMatch(/2 to 25 activities/));
  it('rejects an activity entry with two kinds set', () =>
    expect(reason([{ ...channel('d'), filter: { name: 'x', filter: 'a > 1' } }, datastore()])).toMatch(/exactly one of/));
  it('rejects invalid attribute names in activities', () =>
    expect(reason([channel('r'), { removeAttributes: { name: 'r', attributes: ['bad-name'], next: 'd' } }, datastore()])).toMatch(/valid attribute name/));
  it('rejects a lambda batchSize outside 1..1000', () =>
    expect(reason([channel('l'), { lambda: { name: 'l', lambdaName: 'x', batchSize: 1001, next: 'd' } }, datastore()])).toMatch(/batchSize/));
});
