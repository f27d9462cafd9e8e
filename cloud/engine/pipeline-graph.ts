import { z } from 'zod';
import { pipelineActivitySchema, type ParsedActivity } from './activities/activity-schema.ts';
import { InvalidRequestException } from './errors.ts';
import { parseRequest } from './request-parse.ts';

/**
 * A pipeline's activities form one chain from its channel to its datastore, linked by `next`. This
 * module checks that shape and returns the activities in running order, so a broken graph is
 * refused when the pipeline is created rather than when the first message arrives.
 */

export const MIN_ACTIVITIES = 2;
export const MAX_ACTIVITIES = 25;

export interface PipelineGraph {
  /** Channel first, datastore last. */
  ordered: ParsedActivity[];
  channelName: string;
  datastoreName: string;
}

const activitiesSchema = z.array(pipelineActivitySchema);

export function buildPipelineGraph(input: unknown, operation = 'pipelineActivities'): PipelineGraph {
  if (!Array.isArray(input)) throw new InvalidRequestException(`${operation}: give a list of activities.`);
  if (input.length < MIN_ACTIVITIES || input.length > MAX_ACTIVITIES) {
    throw new InvalidRequestException(
      `${operation}: a pipeline has ${MIN_ACTIVITIES} to ${MAX_ACTIVITIES} activities (a channel, a datastore and up to 23 in between), not ${input.length}.`,
    );
  }
  const activities = parseRequest(activitiesSchema, input, operation);
  const byName = new Map<string, ParsedActivity>();
  for (const activity of activities) {
    if (byName.has(activity.name)) throw new InvalidRequestException(`${operation}: two activities are named "${activity.name}"; names must be unique.`);
    byName.set(activity.name, activity);
  }
  const channels = activities.filter((a) => a.kind === 'channel');
  const datastores = activities.filter((a) => a.kind === 'datastore');
  if (channels.length !== 1) {
    throw new InvalidRequestException(`${operation}: a pipeline needs exactly one channel activity, found ${channels.length}.`);
  }
  if (datastores.length !== 1) {
    throw new InvalidRequestException(`${operation}: a pipeline needs exactly one datastore activity, found ${datastores.length}.`);
  }
  for (const activity of activities) {
    if (activity.next !== undefined && !byName.has(activity.next)) {
      throw new InvalidRequestException(`${operation}: activity "${activity.name}" has next "${activity.next}", but no activity has that name.`);
    }
  }
  const ordered: ParsedActivity[] = [];
  const visited = new Set<string>();
  let current: ParsedActivity | undefined = channels[0]!;
  while (current) {
    if (visited.has(current.name)) {
      throw new InvalidRequestException(`${operation}: the activities form a cycle through "${current.name}"; chain them from the channel to the datastore.`);
    }
    visited.add(current.name);
    ordered.push(current);
    if (current.kind === 'datastore') break;
    if (current.next === undefined) {
      throw new InvalidRequestException(`${operation}: activity "${current.name}" has no next, so messages never reach the datastore.`);
    }
    current = byName.get(current.next);
  }
  const unreachable = activities.filter((a) => !visited.has(a.name)).map((a) => a.name);
  if (unreachable.length > 0) {
    throw new InvalidRequestException(`${operation}: activities ${unreachable.map((n) => `"${n}"`).join(', ')} are not on the chain from the channel to the datastore.`);
  }
  const channel = channels[0]!;
  const datastore = datastores[0]!;
  return {
    ordered,
    channelName: channel.kind === 'channel' ? channel.spec.channelName : '',
    datastoreName: datastore.kind === 'datastore' ? datastore.spec.datastoreName : '',
  };
}
