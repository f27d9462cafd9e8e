import { z } from 'zod';
import { listQuery, operation, type Operation } from './operations.ts';
import { blob, epochSeconds, pipelineActivities, pipelineActivity, pipelineName, tagList } from './shapes.ts';

/** Pipelines, RunPipelineActivity and reprocessing (service-2.json paths and statuses). */

const byName = z.strictObject({ pipelineName });

/** The CreatePipeline body, also the shape of a `pipelines` entry in a resource file (cloud/apply.ts). */
export const createPipelineBody = z.strictObject({ pipelineName, pipelineActivities, tags: tagList.optional() });

export const pipelineOperations: Operation[] = [
  operation({
    name: 'CreatePipeline',
    method: 'POST',
    path: '/pipelines',
    status: 201,
    body: createPipelineBody,
    run: (input, { engine }) => engine.createPipeline(input),
  }),
  operation({
    name: 'DescribePipeline',
    method: 'GET',
    path: '/pipelines/:pipelineName',
    params: byName,
    run: (input, { engine }) => engine.describePipeline(input),
  }),
  operation({
    name: 'UpdatePipeline',
    method: 'PUT',
    path: '/pipelines/:pipelineName',
    params: byName,
    body: z.strictObject({ pipelineActivities }),
    run: (input, { engine }) => engine.updatePipeline(input),
  }),
  operation({
    name: 'DeletePipeline',
    method: 'DELETE',
    path: '/pipelines/:pipelineName',
    status: 204,
    params: byName,
    run: (input, { engine }) => engine.deletePipeline(input),
  }),
  operation({
    name: 'ListPipelines',
    method: 'GET',
    path: '/pipelines',
    query: listQuery,
    run: (input, { engine }) => engine.listPipelines(input),
  }),
  operation({
    name: 'RunPipelineActivity',
    method: 'POST',
    path: '/pipelineactivities/run',
    body: z.strictObject({ pipelineActivity, payloads: z.array(blob).min(1, 'give 1-10 payloads').max(10, 'give 1-10 payloads') }),
    run: (input, { engine }) => engine.runPipelineActivity(input),
  }),
  operation({
    name: 'StartPipelineReprocessing',
    method: 'POST',
    path: '/pipelines/:pipelineName/reprocessing',
    params: byName,
    body: z.strictObject({
      startTime: epochSeconds.optional(),
      endTime: epochSeconds.optional(),
      channelMessages: z.strictObject({ s3Paths: z.array(z.string().min(1).max(1024)).min(1).max(100).optional() }).optional(),
    }),
    run: (input, { engine }) => engine.startPipelineReprocessing(input),
  }),
  operation({
    name: 'CancelPipelineReprocessing',
    method: 'DELETE',
    path: '/pipelines/:pipelineName/reprocessing/:reprocessingId',
    params: z.strictObject({ pipelineName, reprocessingId: z.string().min(1).max(128) }),
    run: async (input, { engine }) => {
      await engine.cancelPipelineReprocessing(input);
      return {};
    },
  }),
];
