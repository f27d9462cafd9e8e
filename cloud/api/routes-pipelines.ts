import { z } from 'zod';
import { listQuery, operation, type Operation } from './operations.ts';
import { pipelineName } from '../model/common.ts';
import { cancelPipelineReprocessingRequest, createPipelineRequest, runPipelineActivityRequest, startPipelineReprocessingRequest, updatePipelineRequest } from '../model/pipelines.ts';

/** Pipelines, RunPipelineActivity and reprocessing (service-2.json paths and statuses). */

const byName = z.strictObject({ pipelineName });

/** The CreatePipeline body, also the shape of a `pipelines` entry in a resource file (cloud/api/apply.ts). */
export const createPipelineBody = createPipelineRequest;

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
    body: updatePipelineRequest.omit({ pipelineName: true }),
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
    body: runPipelineActivityRequest,
    run: (input, { engine }) => engine.runPipelineActivity(input),
  }),
  operation({
    name: 'StartPipelineReprocessing',
    method: 'POST',
    path: '/pipelines/:pipelineName/reprocessing',
    params: byName,
    body: startPipelineReprocessingRequest.omit({ pipelineName: true }),
    run: (input, { engine }) => engine.startPipelineReprocessing(input),
  }),
  operation({
    name: 'CancelPipelineReprocessing',
    method: 'DELETE',
    path: '/pipelines/:pipelineName/reprocessing/:reprocessingId',
    params: cancelPipelineReprocessingRequest,
    run: async (input, { engine }) => {
      await engine.cancelPipelineReprocessing(input);
      return {};
    },
  }),
];
