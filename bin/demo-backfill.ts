import type { Logger } from 'pino';
import { weatherRecord, type WeatherRecord } from '../hardware/core/contract.ts';
import { MM_PER_TIP, rainMm } from '../hardware/rain-gauge.ts';
import type { VirtualWeather } from '../hardware/virtual-weather.ts';
import { vectorMeanDirection } from '../hardware/wind-vane.ts';
import type { Engine } from '../cloud/engine/engine.ts';
import { StoreWeatherSource, type StoreWeatherSourceOptions } from '../cloud/dashboard/weather-source.ts';

/**
 * A week of history for the demo's virtual stations at their first start, so the page's charts and
 * downloads are full from the first second. Records come from the same seeded weather model the
 * stations' virtual sensors follow, keep the wire contract, and enter `weather_channel` through
 * BatchPutMessage, so the pipeline and the datastore treat them exactly as ingested ones. A station that
 * already has records is left alone: data is kept across restarts and never doubled.
 */

/** How far back the history reaches. */
export const BACKFILL_DAYS = 7;
/** One record per 5 minutes, the Oracle station's interval: 2016 records a week. */
export const BACKFILL_STEP_MS = 5 * 60_000;
/** The channel the weather topic rule feeds (cloud/resources/default.json). */
export const WEATHER_CHANNEL = 'weather_channel';
/** The sensors of the virtual build (the Weather HAT): every field of a record, each ok. */
const VIRTUAL_HAT_SENSORS = ['htu21d', 'bmp180', 'air_quality', 'ds18b20', 'wind_vane', 'anemometer', 'rain_gauge'] as const;
/** BatchPutMessage's limit per call. */
const BATCH = 100;
/** Instants sampled per record: vane readings (the station takes several between records) and rain minutes. */
const SAMPLES = 5;
/** The 16 points the vane resolves. */
const VANE_STEP_DEG = 22.5;

export interface BackfillStation {
  id: string;
  weather: VirtualWeather;
}

export interface BackfillOptions {
  stations: readonly BackfillStation[];
  /** The engine's store (AnalyticsEngine.store), where the weather datastore is read to see who has records. */
  store: StoreWeatherSourceOptions['store'];
  datastoreName: string;
  now: number;
  log: Logger;
}

/** Backfills every station without records; returns how many records each got (0: it had records). */
export async function backfillDemoWeather(engine: Engine, options: BackfillOptions): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const source = new StoreWeatherSource({ store: options.store, datastoreName: options.datastoreName });
  try {
    for (const station of options.stations) {
      if ((await source.latest(station.id)) !== undefined) {
        counts[station.id] = 0;
        continue;
      }
      const records = weekOfRecords(station.weather, options.now);
      for (let i = 0; i < records.length; i += BATCH) {
        const messages = records.slice(i, i + BATCH).map((record) => ({
          // Fixed per station and instant, so a second try (a crash mid-backfill) is dropped as a duplicate.
          messageId: `backfill-${station.id}-${record.ts}`,
          // The topic rule stores each record with its envelope's deviceId beside it; so does this.
          payload: Buffer.from(JSON.stringify({ ...record, device_id: station.id })),
        }));
        const { batchPutMessageErrorEntries = [] } = await engine.batchPutMessage({ channelName: WEATHER_CHANNEL, messages });
        if (batchPutMessageErrorEntries.length > 0) throw new Error(`backfill for ${station.id} refused: ${batchPutMessageErrorEntries[0]!.errorMessage}`);
      }
      counts[station.id] = records.length;
      options.log.info(`${station.id}: ${records.length} records of the last ${BACKFILL_DAYS} days filled in from its weather model`);
    }
  } finally {
    await source.close();
  }
  return counts;
}

/** The records of the week before `now`, one per BACKFILL_STEP_MS, ending at the last step boundary. */
export function weekOfRecords(weather: VirtualWeather, now: number): WeatherRecord[] {
  const end = Math.floor(now / BACKFILL_STEP_MS) * BACKFILL_STEP_MS;
  const count = (BACKFILL_DAYS * 24 * 3600_000) / BACKFILL_STEP_MS;
  const records: WeatherRecord[] = [];
  let rainCarry = 0;
  for (let k = count - 1; k >= 0; k--) {
    const ts = end - k * BACKFILL_STEP_MS;
    const from = ts - BACKFILL_STEP_MS;
    const w = weather.weatherAt(ts);
    const wind = weather.windOver(from, ts);
    // Five instants a record, one a minute: the vane's readings and the rain gauge's minutes.
    const samples = Array.from({ length: SAMPLES }, (_, i) => weather.weatherAt(from + ((i + 0.5) * BACKFILL_STEP_MS) / SAMPLES));
    // The gauge reports whole tips; what falls short of one tip waits in the bucket for the next record.
    const rain = rainCarry + samples.reduce((mm, s) => mm + (s.rainRateMmPerHour * BACKFILL_STEP_MS) / SAMPLES / 3600_000, 0);
    const tips = Math.floor(rain / MM_PER_TIP);
    rainCarry = rain - tips * MM_PER_TIP;
    const vane = samples.map((s) => (Math.round(s.windDirectionDeg / VANE_STEP_DEG) * VANE_STEP_DEG) % 360);
    records.push(
      weatherRecord.parse({
        ts,
        ambient_temperature: round(w.temperature, 2),
        ground_temperature: round(w.groundTemperature, 2),
        air_quality: round(w.airQuality, 1),
        air_pressure: round(w.pressure, 2),
        humidity: round(w.humidity, 1),
        wind_direction: round(vectorMeanDirection(vane) ?? vane[0]!, 1),
        wind_speed: round(wind.meanKmh, 2),
        wind_gust_speed: round(wind.gustKmh, 2),
        rainfall: rainMm(tips),
        sensors: Object.fromEntries(VIRTUAL_HAT_SENSORS.map((s) => [s, 'ok'])),
      }),
    );
  }
  return records;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
