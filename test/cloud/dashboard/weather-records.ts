import type { Envelope, WeatherRecord } from '../../../hardware/core/contract.ts';

/**
 * Weather records for the page's tests: a station's last day, one record every `stepMs`, following a
 * plain daily curve, with the events a test asks for laid on top (a frost hour, a gust, a downpour).
 */

export const ALL_OK = { bme280: 'ok', ds18b20: 'ok', anemometer: 'ok', wind_vane: 'ok', rain_gauge: 'ok' } as const;

export interface DayOptions {
  end: number;
  hours?: number;
  stepMs?: number;
  /** Air temperature at the coldest (04:00-ish) and warmest point of the day. */
  low?: number;
  high?: number;
  /** A gust (km/h) in the record this many minutes before `end`. */
  gust?: { kmh: number; minutesAgo: number };
  /** Rain (mm) spread over the hour ending this many minutes before `end`. */
  downpour?: { mm: number; minutesAgo: number };
  /** Overrides applied to the newest record. */
  latest?: Partial<WeatherRecord>;
}

export function weatherDay(options: DayOptions): WeatherRecord[] {
  const step = options.stepMs ?? 10 * 60_000;
  const hours = options.hours ?? 24;
  const low = options.low ?? 4;
  const high = options.high ?? 14;
  const count = Math.floor((hours * 3600_000) / step);
  const records: WeatherRecord[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const ts = options.end - i * step;
    const phase = ((ts / 3600_000) % 24) / 24;
    const air = low + ((high - low) * (1 - Math.cos(2 * Math.PI * (phase - 4 / 24)))) / 2;
    const minutesAgo = (options.end - ts) / 60_000;
    const gust = options.gust && Math.abs(minutesAgo - options.gust.minutesAgo) < step / 120_000 ? options.gust.kmh : 18 + 6 * Math.sin(i);
    const inDownpour = options.downpour && minutesAgo >= options.downpour.minutesAgo && minutesAgo < options.downpour.minutesAgo + 60;
    records.push({
      ts,
      ambient_temperature: Math.round(air * 10) / 10,
      ground_temperature: Math.round((air + 1.5) * 10) / 10,
      air_quality: 12,
      air_pressure: 1012 + Math.sin(i / 20),
      humidity: 70 + 10 * Math.cos(i / 10),
      wind_direction: 225,
      wind_speed: 9 + 3 * Math.sin(i / 7),
      wind_gust_speed: Math.round(gust * 10) / 10,
      rainfall: inDownpour ? Math.round((options.downpour!.mm / (3600_000 / step)) * 1000) / 1000 : 0,
      sensors: { ...ALL_OK },
    });
  }
  if (options.latest && records.length > 0) Object.assign(records[records.length - 1]!, options.latest);
  return records;
}

/** One envelope per `perEnvelope` records, as the uplink sends them on dt/weather/<id>/reading. */
export function envelopes(stationId: string, records: WeatherRecord[], perEnvelope = 50): Array<{ topic: string; payload: Buffer }> {
  const out: Array<{ topic: string; payload: Buffer }> = [];
  for (let i = 0; i < records.length; i += perEnvelope) {
    const envelope: Envelope<WeatherRecord> = {
      messageId: `${stationId}-${i}`,
      deviceId: stationId,
      seq: i,
      sentAt: records[Math.min(i + perEnvelope, records.length) - 1]!.ts,
      records: records.slice(i, i + perEnvelope),
    };
    out.push({ topic: `dt/weather/${stationId}/reading`, payload: Buffer.from(JSON.stringify(envelope)) });
  }
  return out;
}
