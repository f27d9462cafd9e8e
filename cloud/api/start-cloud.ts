import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Extension } from '../../hardware/core/extension.ts';
import { alertEngineFor, type AlertEngine } from '../alerts/alert-engine.ts';
import { StoreAlertHistory } from '../alerts/alert-history.ts';
import type { AlertSettings } from '../alerts/alert-settings.ts';
import { AnalyticsEngine, type AnalyticsEngineOptions } from '../engine/analytics-engine.ts';
import { createSecretFileOnce } from '../engine/secret-file.ts';
import { weatherPageSettings, withAlertThresholds, type WeatherPageSettings } from '../dashboard/weather-page-settings.ts';
import { StoreWeatherSource } from '../dashboard/weather-source.ts';
import type { CloudSettings } from '../settings.ts';
import type { CloudStore } from '../storage/cloud-store.ts';
import { accessKey, accessKeysFrom, GENERATED_KEYS_FILE, type AccessKey, type ApiSettings } from './api-settings.ts';
import { contentKeyFrom, createContentUrls } from './content-urls.ts';
import { buildApp } from './server.ts';

/**
 * `hedgerow cloud`: the engine and its REST API as one Extension. start() opens the engine, then
 * listens; stop() closes the listener first (no new calls), then the engine.
 */

export interface CloudSettingsSections {
  cloud: CloudSettings;
  api: ApiSettings;
  /** The farmers' weather page. Default: weatherPageSettings' defaults. */
  weatherPage?: WeatherPageSettings;
  /** Frost, rain, wind and offline alerts. Default: none evaluated (the config file's section is always there). */
  alerts?: AlertSettings;
}

export interface StartCloudOptions {
  settings: CloudSettingsSections;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Engine options for tests (clock, store, timers); settings and log come from above. */
  engine?: Partial<Omit<AnalyticsEngineOptions, 'settings' | 'log' | 'contentUrl'>>;
}

export interface CloudExtension extends Extension {
  /** The URL the API answers on, once started (http://host:port). */
  readonly endpoint: string;
  readonly accessKeys: readonly AccessKey[];
  /** Where a user finds the API keys: the config / environment, or the generated file. */
  readonly credentialsAt: string;
  readonly engine: AnalyticsEngine;
  readonly app: FastifyInstance;
  readonly alerts: AlertEngine | undefined;
}

/** Where a publish streams its bundle and checks it (in cloud.dataDir, not /tmp: a bundle may be 1 GiB); each call's folder is removed after it. */
export const INCOMING_COLLECTIONS_DIR = 'collections-incoming';

/** The generated key pair's name among the store's secrets. */
export const GENERATED_KEYS_SECRET = 'api-credentials';

/**
 * Keys from the config or environment, else the pair generated once and kept in the engine's store, so
 * every engine on one store accepts it. The first engine stores it (an older Hedgerow's
 * api-credentials.json is stored rather than a new pair, so the key users have keeps working); each
 * engine keeps a copy in that file (mode 0600) for its operator and `hedgerow cloud apply`.
 */
export async function resolveAccessKeys(
  api: ApiSettings, store: Pick<CloudStore, 'secret'>, dataDir: string, log: Logger, env: NodeJS.ProcessEnv = process.env,
): Promise<AccessKey[]> {
  const keys = accessKeysFrom(api, env);
  if (keys.length > 0) return keys;
  const file = join(dataDir, GENERATED_KEYS_FILE);
  const inFile = readKeysFile(file);
  const candidate: AccessKey = inFile ?? {
    accessKeyId: `HEDGEROW${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const text = await store.secret(GENERATED_KEYS_SECRET, JSON.stringify(candidate));
  const saved = accessKey.parse(JSON.parse(text));
  const copy = `${JSON.stringify(saved, null, 2)}\n`;
  if (!inFile) {
    // Another engine on this folder may write the same copy at the same moment: the first link stands.
    createSecretFileOnce(file, copy);
    if (saved.secretAccessKey === candidate.secretAccessKey) log.warn({ file, accessKeyId: saved.accessKeyId }, 'no API access key configured: generated one; its secret is in the file');
    else log.info({ file, accessKeyId: saved.accessKeyId }, 'using the API access key another engine generated; a copy is in the file');
  } else if (inFile.accessKeyId !== saved.accessKeyId || inFile.secretAccessKey !== saved.secretAccessKey) {
    // Another engine's file was adopted first: this one's pair no longer works, so its copy is replaced.
    const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
    writeFileSync(temporary, copy, { mode: 0o600 });
    renameSync(temporary, file);
    log.warn({ file, accessKeyId: saved.accessKeyId, replaced: inFile.accessKeyId }, `the store already holds another generated API key: ${inFile.accessKeyId} no longer works; clients must use ${saved.accessKeyId}, now in the file`);
  } else {
    log.info({ file, accessKeyId: saved.accessKeyId }, 'using the generated API access key (set api.accessKeys or HEDGEROW_ACCESS_KEY_ID to choose your own)');
  }
  return [saved];
}

function readKeysFile(file: string): AccessKey | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    json = undefined;
  }
  const parsed = accessKey.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${file} does not hold an access key pair ({ "accessKeyId", "secretAccessKey" }); delete it and restart to use the key in the store (or make a new one).`);
  }
  return parsed.data;
}

/**
 * Where `hedgerow cloud apply` sends its calls and with which key, from the same settings the server uses:
 * the configured port on this machine, the first configured (or generated) access key, and api.region to sign for.
 */
export function applyTargetFrom(settings: CloudSettingsSections, env: NodeJS.ProcessEnv = process.env): { endpoint: string; credentials: AccessKey; region: string } {
  const host = settings.api.host === '0.0.0.0' || settings.api.host === '::' ? '127.0.0.1' : settings.api.host;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${settings.api.port}`;
  const configured = accessKeysFrom(settings.api, env)[0];
  const region = settings.api.region;
  if (configured) return { endpoint, credentials: configured, region };
  const file = join(settings.cloud.dataDir, GENERATED_KEYS_FILE);
  if (!existsSync(file)) {
    throw new Error(`no access key: set HEDGEROW_ACCESS_KEY_ID and HEDGEROW_SECRET_ACCESS_KEY, or api.accessKeys in the config (the server's generated key would be in ${file}, which does not exist yet).`);
  }
  return { endpoint, credentials: JSON.parse(readFileSync(file, 'utf8')) as AccessKey, region };
}

export function startCloud(options: StartCloudOptions): CloudExtension {
  const { settings, log } = options;
  let endpoint = '';
  let accessKeys: AccessKey[] = [];
  let credentialsAt = '';
  let engine: AnalyticsEngine | undefined;
  let app: FastifyInstance | undefined;
  let alerts: AlertEngine | undefined;

  return {
    name: 'cloud',
    get endpoint() {
      return endpoint;
    },
    get accessKeys() {
      return accessKeys;
    },
    get credentialsAt() {
      return credentialsAt;
    },
    get engine() {
      if (!engine) throw new Error('the cloud is not started');
      return engine;
    },
    get app() {
      if (!app) throw new Error('the cloud is not started');
      return app;
    },
    async start() {
      // The keys are kept in the engine's store, so they are resolved once it is open; dataURIs are
      // built only for API calls, which come after (contentUrls is set by then).
      const now = options.engine?.clock ? () => options.engine!.clock!.now() : Date.now;
      engine = new AnalyticsEngine({ ...options.engine, settings: settings.cloud, log, contentUrl: (ref) => contentUrls.build(ref) });
      await engine.start();
      try {
        accessKeys = await resolveAccessKeys(settings.api, engine.store, settings.cloud.dataDir, log, options.env);
      } catch (error) {
        await engine.stop();
        throw error;
      }
      credentialsAt = accessKeysFrom(settings.api, options.env ?? process.env).length > 0
        ? 'api.accessKeys / HEDGEROW_ACCESS_KEY_ID'
        : join(settings.cloud.dataDir, GENERATED_KEYS_FILE);
      const contentUrls = createContentUrls({
        key: contentKeyFrom(accessKeys.map((k) => k.secretAccessKey)),
        ttlSeconds: settings.api.contentUrlTtlSeconds,
        now,
      });
      const parsedPage = settings.weatherPage ?? weatherPageSettings.parse({});
      const page = settings.alerts ? withAlertThresholds(parsedPage, settings.alerts) : parsedPage;
      try {
        const weatherPage = {
          settings: page,
          source: new StoreWeatherSource({ store: engine.store, datastoreName: page.datastoreName }),
          alerts: new StoreAlertHistory(engine.store),
        };
        const collections = { store: engine.store, keepVersions: settings.cloud.collections.keepVersions, incomingDir: join(settings.cloud.dataDir, INCOMING_COLLECTIONS_DIR) };
        app = await buildApp({ engine, settings: settings.api, accessKeys, contentUrls, log, now, weatherPage, collections });
        await app.listen({ port: settings.api.port, host: settings.api.host });
      } catch (error) {
        await app?.close();
        await engine.stop();
        throw error;
      }
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      endpoint = `http://${host}:${address.port}`;
      log.info({ endpoint, accessKeyIds: accessKeys.map((k) => k.accessKeyId) }, 'IoT Analytics API listening');
      if (settings.alerts?.enabled) {
        alerts = alertEngineFor({ alerts: settings.alerts, cloud: settings.cloud, page, engine, store: engine.store, log: log.child({ part: 'alerts' }), clock: options.engine?.clock });
        await alerts.start();
      }
    },
    /** The alert engine, when alerts are on (tests evaluate and read its store). */
    get alerts() {
      return alerts;
    },
    async stop() {
      await alerts?.stop();
      alerts = undefined;
      await app?.close();
      await engine?.stop();
      app = undefined;
      engine = undefined;
    },
  };
}
