import { CreateChannelCommand, CreateDatastoreCommand, CreatePipelineCommand, type IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';

/** Channel `readings` -> pipeline `readings_pipeline` -> datastore `readings_store`, through the AWS SDK. */
export async function createReadingsFlow(client: IoTAnalyticsClient): Promise<void> {
  await client.send(new CreateChannelCommand({ channelName: 'readings' }));
  await client.send(new CreateDatastoreCommand({ datastoreName: 'readings_store' }));
  await client.send(
    new CreatePipelineCommand({
      pipelineName: 'readings_pipeline',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'readings', next: 'out' } },
        { datastore: { name: 'out', datastoreName: 'readings_store' } },
      ],
    }),
  );
}
