import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';
import { apiSettings, type ApiSettings } from '../../../cloud/api/api-settings.ts';
import { startCloud, type CloudExtension } from '../../../cloud/api/start-cloud.ts';
import { cloudSettings, type CloudSettings } from '../../../cloud/settings.ts';
import { silentLog, TEST_KEY } from './helpers.ts';

/** The real engine and API on a free port in a temp folder (no MQTT), and an AWS SDK client pointed at it. */
export interface TestCloud {
  cloud: CloudExtension;
  client: IoTAnalyticsClient;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestCloud(options: { api?: Partial<ApiSettings>; cloud?: Partial<CloudSettings> } = {}): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cloud-'));
  const settings = {
    cloud: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...options.cloud }),
    api: apiSettings.parse({ port: 0, accessKeys: [TEST_KEY], ...options.api }),
  };
  const cloud = startCloud({ settings, log: silentLog, env: {} });
  await cloud.start();
  const client = new IoTAnalyticsClient({ endpoint: cloud.endpoint, region: settings.api.region, credentials: { ...TEST_KEY }, maxAttempts: 1 });
  return {
    cloud,
    client,
    dir,
    async stop() {
      client.destroy();
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
