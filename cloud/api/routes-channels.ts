import { z } from 'zod';
import { listQuery, operation, queryBool, queryInt, queryTimestamp, type Operation } from './operations.ts';
import { channelName } from '../model/common.ts';
import { batchPutMessageRequest, createChannelRequest, maxMessages, updateChannelRequest } from '../model/channels.ts';

/** Channels, BatchPutMessage and SampleChannelData (service-2.json paths and statuses). */

const byName = z.strictObject({ channelName });

/** The CreateChannel body, also the shape of a `channels` entry in a resource file (cloud/api/apply.ts). */
export const createChannelBody = createChannelRequest;

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
    body: updateChannelRequest.omit({ channelName: true }),
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
    body: batchPutMessageRequest,
    run: (input, { engine }) => engine.batchPutMessage(input),
  }),
  operation({
    name: 'SampleChannelData',
    method: 'GET',
    path: '/channels/:channelName/sample',
    params: byName,
    query: z.object({ maxMessages: queryInt(maxMessages).optional(), startTime: queryTimestamp.optional(), endTime: queryTimestamp.optional() }),
    run: (input, { engine }) => engine.sampleChannelData(input),
  }),
];
