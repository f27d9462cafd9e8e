import { z } from 'zod';
import type { GetDatasetContentResponse } from '../engine/engine.ts';
import { listQuery, operation, queryString, queryTimestamp, type Operation } from './operations.ts';
import { datasetName } from '../model/common.ts';
import { createDatasetContentRequest, createDatasetRequest, datasetContentVersion, updateDatasetRequest } from '../model/datasets.ts';

/** Datasets and dataset content (service-2.json paths and statuses). */

const byName = z.strictObject({ datasetName });
const versionQuery = z.object({ versionId: queryString(datasetContentVersion).optional() });

/** The engine builds dataURIs relative to the server; the caller gets them absolute, for the host it called. */
function absoluteEntries(response: GetDatasetContentResponse, absoluteUrl: (path: string) => string): GetDatasetContentResponse {
  return {
    ...response,
    entries: response.entries?.map((entry) => (entry.dataURI?.startsWith('/') ? { ...entry, dataURI: absoluteUrl(entry.dataURI) } : entry)),
  };
}

/** The CreateDataset body, also the shape of a `datasets` entry in a resource file (cloud/api/apply.ts). */
export const createDatasetBody = createDatasetRequest;

export const datasetOperations: Operation[] = [
  operation({
    name: 'CreateDataset',
    method: 'POST',
    path: '/datasets',
    status: 201,
    body: createDatasetBody,
    run: (input, { engine }) => engine.createDataset(input),
  }),
  operation({
    name: 'DescribeDataset',
    method: 'GET',
    path: '/datasets/:datasetName',
    params: byName,
    run: (input, { engine }) => engine.describeDataset(input),
  }),
  operation({
    name: 'UpdateDataset',
    method: 'PUT',
    path: '/datasets/:datasetName',
    params: byName,
    body: updateDatasetRequest.omit({ datasetName: true }),
    run: (input, { engine }) => engine.updateDataset(input),
  }),
  operation({
    name: 'DeleteDataset',
    method: 'DELETE',
    path: '/datasets/:datasetName',
    status: 204,
    params: byName,
    run: (input, { engine }) => engine.deleteDataset(input),
  }),
  operation({
    name: 'ListDatasets',
    method: 'GET',
    path: '/datasets',
    query: listQuery,
    run: (input, { engine }) => engine.listDatasets(input),
  }),
  operation({
    name: 'CreateDatasetContent',
    method: 'POST',
    path: '/datasets/:datasetName/content',
    params: byName,
    body: createDatasetContentRequest.omit({ datasetName: true }),
    run: (input, { engine }) => engine.createDatasetContent(input),
  }),
  operation({
    name: 'GetDatasetContent',
    method: 'GET',
    path: '/datasets/:datasetName/content',
    params: byName,
    query: versionQuery,
    run: async (input, { engine, absoluteUrl }) => absoluteEntries(await engine.getDatasetContent(input), absoluteUrl),
  }),
  operation({
    name: 'DeleteDatasetContent',
    method: 'DELETE',
    path: '/datasets/:datasetName/content',
    status: 204,
    params: byName,
    query: versionQuery,
    run: (input, { engine }) => engine.deleteDatasetContent(input),
  }),
  operation({
    name: 'ListDatasetContents',
    method: 'GET',
    path: '/datasets/:datasetName/contents',
    params: byName,
    query: listQuery.extend({ scheduledOnOrAfter: queryTimestamp.optional(), scheduledBefore: queryTimestamp.optional() }),
    run: (input, { engine }) => engine.listDatasetContents(input),
  }),
];
