import { z } from 'zod';
import { listQuery, operation, queryBool, type Operation } from './operations.ts';
import { datastoreName, datastorePartitions, datastoreStorage, fileFormatConfiguration, retentionPeriod, tagList } from './shapes.ts';

/** Datastores (service-2.json paths and statuses). */

const byName = z.strictObject({ datastoreName });

/** The CreateDatastore body, also the shape of a `datastores` entry in a resource file (cloud/apply.ts). */
export const createDatastoreBody = z.strictObject({
  datastoreName,
  datastoreStorage: datastoreStorage.optional(),
  retentionPeriod: retentionPeriod.optional(),
  tags: tagList.optional(),
  fileFormatConfiguration: fileFormatConfiguration.optional(),
  datastorePartitions: datastorePartitions.optional(),
});

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
    body: z.strictObject({
      retentionPeriod: retentionPeriod.optional(),
      datastoreStorage: datastoreStorage.optional(),
      fileFormatConfiguration: fileFormatConfiguration.optional(),
    }),
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
