import { z } from 'zod';
import { listQuery, operation, queryBool, type Operation } from './operations.ts';
import { datastoreName } from '../model/common.ts';
import { createDatastoreRequest, updateDatastoreRequest } from '../model/datastores.ts';

/** Datastores (service-2.json paths and statuses). */

const byName = z.strictObject({ datastoreName });

/** The CreateDatastore body, also the shape of a `datastores` entry in a resource file (cloud/api/apply.ts). */
export const createDatastoreBody = createDatastoreRequest;

export const datastoreOperations: Operation[] = [
  operation({
    name: 'CreateDatastore',
    method: 'POST',
    path: '/datastores',
    status: 201,
    body: createDatastoreBody,
    run: (input, { engine }) => engine.createDatastore(input),
  }),
  operation({
    name: 'DescribeDatastore',
    method: 'GET',
    path: '/datastores/:datastoreName',
    params: byName,
    query: z.object({ includeStatistics: queryBool.optional() }),
    run: (input, { engine }) => engine.describeDatastore(input),
  }),
  operation({
    name: 'UpdateDatastore',
    method: 'PUT',
    path: '/datastores/:datastoreName',
    params: byName,
    body: updateDatastoreRequest.omit({ datastoreName: true }),
    run: (input, { engine }) => engine.updateDatastore(input),
  }),
  operation({
    name: 'DeleteDatastore',
    method: 'DELETE',
    path: '/datastores/:datastoreName',
    status: 204,
    params: byName,
    run: (input, { engine }) => engine.deleteDatastore(input),
  }),
  operation({
    name: 'ListDatastores',
    method: 'GET',
    path: '/datastores',
    query: listQuery,
    run: (input, { engine }) => engine.listDatastores(input),
  }),
];
