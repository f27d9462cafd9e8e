import { z } from 'zod';
import {
  type CustomerManagedS3,
  dataTimes,
  arn, datastoreName, empty, listRequest, modelPattern, nextToken, refused, resourceStatus, retentionPeriod,
  statistics, tagList,
} from './common.ts';

/** Datastores: requests and responses. */

const MAX_PARTITIONS = 25;
const ONLY_SERVICE_MANAGED = 'only serviceManagedS3 is available here; the engine keeps datastores in its own SQLite file';

export const datastoreStorage = z.strictObject({
  serviceManagedS3: empty.optional(),
  customerManagedS3: refused<CustomerManagedS3>(ONLY_SERVICE_MANAGED),
  iotSiteWiseMultiLayerStorage: refused<{ customerManagedS3Storage: Omit<CustomerManagedS3, 'roleArn'> }>(ONLY_SERVICE_MANAGED),
});
/** What the engine returns: only service-managed storage exists here. */
const datastoreStorageOut = z.strictObject({ serviceManagedS3: empty.optional() });

export const fileFormatConfiguration = z
  .strictObject({
    jsonConfiguration: empty.optional(),
    parquetConfiguration: z
      .strictObject({
        schemaDefinition: z
          .strictObject({
            columns: z
              .array(
                z.strictObject({
                  name: z.string().min(1).max(255).regex(modelPattern('^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$'), 'not a valid column name'),
                  type: z.string().min(1).max(131072).regex(modelPattern('^[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*$'), 'not a valid column type'),
                }),
              )
              .optional(),
          })
          .optional(),
      })
      .optional(),
  })
  .refine((f) => (f.jsonConfiguration === undefined) !== (f.parquetConfiguration === undefined), { message: 'give either jsonConfiguration or parquetConfiguration' });

const partitionAttribute = z.string().min(1).max(128).regex(modelPattern('^[a-zA-Z0-9_]+$'), 'a partition attribute may contain only letters, digits and "_"');
/** Ours: partition attributes also get an index, which makes queries on them fast. */
export const datastorePartition = z
  .strictObject({
    attributePartition: z.strictObject({ attributeName: partitionAttribute }).optional(),
    timestampPartition: z
      .strictObject({
        attributeName: partitionAttribute,
        timestampFormat: z.string().min(1).max(50).regex(modelPattern("^[a-zA-Z0-9\\s\\[\\]_,.'/:-]*$"), 'not a valid timestampFormat').optional(),
      })
      .optional(),
  })
  .refine((p) => (p.attributePartition === undefined) !== (p.timestampPartition === undefined), { message: 'give attributePartition or timestampPartition' });
export const datastorePartitions = z.strictObject({ partitions: z.array(datastorePartition).min(0).max(MAX_PARTITIONS).optional() });

// SQLite reserves sqlite_ names, and each datastore is a view of its own name.
const newDatastoreName = datastoreName.refine((value) => !value.toLowerCase().startsWith('sqlite_'), 'datastoreName must not start with "sqlite_"');

export const createDatastoreRequest = z.strictObject({
  datastoreName: newDatastoreName,
  datastoreStorage: datastoreStorage.optional(),
  retentionPeriod: retentionPeriod.optional(),
  tags: tagList.optional(),
  fileFormatConfiguration: fileFormatConfiguration.optional(),
  datastorePartitions: datastorePartitions.optional(),
});
export const createDatastoreResponse = z.strictObject({ datastoreName: datastoreName.optional(), datastoreArn: arn.optional(), retentionPeriod: retentionPeriod.optional() });

export const describeDatastoreRequest = z.strictObject({ datastoreName, includeStatistics: z.boolean().optional() });
export const datastore = z.strictObject({
  name: datastoreName.optional(),
  storage: datastoreStorageOut.optional(),
  arn: arn.optional(),
  status: resourceStatus.optional(),
  retentionPeriod: retentionPeriod.optional(),
  ...dataTimes,
  fileFormatConfiguration: fileFormatConfiguration.optional(),
  datastorePartitions: datastorePartitions.optional(),
});
export const describeDatastoreResponse = z.strictObject({ datastore: datastore.optional(), statistics: statistics.optional() });

export const updateDatastoreRequest = z.strictObject({
  datastoreName,
  retentionPeriod: retentionPeriod.optional(),
  datastoreStorage: datastoreStorage.optional(),
  fileFormatConfiguration: fileFormatConfiguration.optional(),
});
export const deleteDatastoreRequest = z.strictObject({ datastoreName });

export const listDatastoresRequest = listRequest;
export const datastoreSummary = z.strictObject({
  datastoreName: datastoreName.optional(),
  datastoreStorage: datastoreStorageOut.optional(),
  status: resourceStatus.optional(),
  ...dataTimes,
  fileFormatType: z.enum(['JSON', 'PARQUET']).optional(),
  datastorePartitions: datastorePartitions.optional(),
});
export const listDatastoresResponse = z.strictObject({ datastoreSummaries: z.array(datastoreSummary).optional(), nextToken: nextToken.optional() });
