import { z } from 'zod';
import { listQuery, operation, queryBool, queryInt, queryTimestamp, type Operation } from './operations.ts';
import { channelName, channelStorage, messages, retentionPeriod, tagList } from './shapes.ts';

/** Channels, BatchPutMessage and SampleChannelData (service-2.json paths and statuses). */

const byName = z.strictObject({ channelName });

/** The CreateChannel body, also the shape of a `channels` entry in a resource file (cloud/apply.ts). */
export const createChannelBody = z.strictObject({ channelName, channelStorage: channelStorage.optional(), retentionPeriod: retentionPeriod.optional(), tags: tagList.optional() });

export const channelOperations: Operation[] = [
  operation({
    name: 'CreateChannel',
    method: 'POST',
    path: '/channels',
    status: 201,
    body: createChannelBody,
    run: (input, { engine }) => engine.createChannel(input),
  }),
  operation({
    name: 'DescribeChannel',
    method: 'GET',
    path: '/channels/:channelName',
    params: byName,
    query: z.object({ includeStatistics: queryBool.optional() }),
    run: (input, { engine }) => engine.describeChannel(input),
  }),
  operation({
    name: 'UpdateChannel',
    method: 'PUT',
    path: '/channels/:channelName',
    params: byName,
    body: z.strictObject({ channelStorage: channelStorage.optional(), retentionPeriod: retentionPeriod.optional() }),
    run: (input, { engine }) => engine.updateChannel(input),
  }),
  operation({
    name: 'DeleteChannel',
    method: 'DELETE',
    path: '/channels/:channelName',
    status: 204,
    params: byName,
    run: (input, { engine }) => engine.deleteChannel(input),
  }),
  operation({
    name: 'ListChannels',
    method: 'GET',
    path: '/channels',
    query: listQuery,
    run: (input, { engine }) => engine.listChannels(input),
  }),
  operation({
    name: 'BatchPutMessage',
    method: 'POST',
    path: '/messages/batch',
    body: z.strictObject({ channelName, messages }),
    run: (input, { engine }) => engine.batchPutMessage(input),
  }),
  operation({
    name: 'SampleChannelData',
    method: 'GET',
    path: '/channels/:channelName/sample',
    params: byName,
    query: z.object({ maxMessages: queryInt(1, 10).optional(), startTime: queryTimestamp.optional(), endTime: queryTimestamp.optional() }),
    run: (input, { engine }) => engine.sampleChannelData(input),
  }),
];
