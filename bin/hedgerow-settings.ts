import { join } from 'node:path';
import { z } from 'zod';
import { parseSettings, readConfigFile } from '../hardware/core/config-file.ts';
import { museumSettings } from '../device/museum-settings.ts';
import { hardwareSettings, stationSettings } from '../device/settings.ts';
import { gatewaySettings } from '../gateway/settings.ts';
import { alertSettings } from '../cloud/alerts/alert-settings.ts';
import { apiSettings } from '../cloud/api/api-settings.ts';
import { weatherPageSettings } from '../cloud/dashboard/weather-page-settings.ts';
import { cloudSettings } from '../cloud/settings.ts';

/**
 * The one config file, composed from each folder's section schema. Every key has a default, so
 * `hedgerow station` with no file at all runs a station. Unknown keys are errors (a typo must not be
 * silently ignored on a Pi nobody watches).
 */
export const hedgerowSettings = z
  .object({
    station: stationSettings.prefault({}),
    hardware: hardwareSettings.prefault({}),
    museum: museumSettings.prefault({}),
    ...gatewaySettings.shape,
    cloud: cloudSettings.prefault({}),
    api: apiSettings.prefault({}),
    weatherPage: weatherPageSettings.prefault({}),
    alerts: alertSettings.prefault({}),
    /** Where the SQLite files live (outbox, cloud engine). */
    dataDir: z.string().default('data'),
  })
  .strict();

export type HedgerowSettings = z.output<typeof hedgerowSettings>;

/** Settings from an optional file, with command-line overrides laid over it before parsing, so a bad flag gets the same clear error as a bad key. */
export function loadSettings(file: string | undefined, overrides: Record<string, unknown> = {}): HedgerowSettings {
  const raw = file ? readConfigFile(file) : {};
  const merged = withCloudUnderDataDir(deepMerge(raw, overrides));
  return parseSettings(hedgerowSettings, merged, file ?? 'settings');
}

/**
 * `dataDir` moves every data file: the engine's folder follows it (`<dataDir>/cloud`) unless
 * `cloud.dataDir` is set. Without this, a config with `dataDir: /var/lib/hedgerow` still put the engine's
 * files in ./data/cloud, under the code's folder, which a hardened unit cannot write.
 */
function withCloudUnderDataDir(merged: unknown): unknown {
  if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) return merged;
  const { dataDir, cloud } = merged as { dataDir?: unknown; cloud?: unknown };
  if (typeof dataDir !== 'string' || (cloud !== undefined && (cloud === null || typeof cloud !== 'object' || Array.isArray(cloud)))) return merged;
  if ((cloud as { dataDir?: unknown } | undefined)?.dataDir !== undefined) return merged;
  return { ...merged, cloud: { ...(cloud as object | undefined), dataDir: join(dataDir, 'cloud') } };
}

/** Lays `over` on `base`, key by key; undefined values in `over` leave the base's value. */
export function deepMerge(base: unknown, over: Record<string, unknown>): unknown {
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) ? deepMerge(out[key], value as Record<string, unknown>) : value;
  }
  return out;
}
