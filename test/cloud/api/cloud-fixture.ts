import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { alertSettings } from '../../../cloud/alerts/alert-settings.ts';
import { apiSettings, type ApiSettings } from '../../../cloud/api/api-settings.ts';
import { startCloud, type CloudExtension, type StartCloudOptions } from '../../../cloud/api/start-cloud.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { silentLog, TEST_KEY } from './helpers.ts';

/** The real engine and API on a free port in a temp folder (no MQTT), and an AWS SDK client pointed at it. */
export interface TestCloud {
  cloud: CloudExtension;
  client: IoTAnalyticsClient;
  dir: string;
  stop(): Promise<void>;
}

export interface TestCloudOptions {
  api?: Partial<ApiSettings>;
  /** The `cloud:` section as in a config file (defaults fill the rest). */
  cloud?: z.input<typeof cloudSettings>;
  /** Default: silent. */
  log?: Logger;
  /** Engine options, e.g. a fake clock. */
  engine?: StartCloudOptions['engine'];
  /** Alert settings (the alerts: section); default: no alert engine. */
  alerts?: Record<string, unknown>;
}

export async function startTestCloud(options: TestCloudOptions = {}): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cloud-'));
  const settings = {
    cloud: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...await testStorage(dir), ...options.cloud }),
    api: apiSettings.parse({ port: 0, accessKeys: [TEST_KEY], ...options.api }),
    ...(options.alerts ? { alerts: alertSettings.parse({ mqtt: { enabled: false }, ...options.alerts }) } : {}),
  };
  const cloud = startCloud({ settings, log: options.log ?? silentLog, env: {}, ...(options.engine ? { engine: options.engine } : {}) });
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
