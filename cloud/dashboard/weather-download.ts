import { roundReading, WEATHER_FIELD_TABLE, WEATHER_FIELDS, type WeatherField } from '../../hardware/core/contract.ts';
import { csvRow } from '../query/csv.ts';
import type { StoredRecord } from './weather-source.ts';

/**
 * A station's raw records as a download, CSV or JSON, written a chunk at a time so a year of records
 * streams out instead of sitting in memory. Times are ISO 8601 UTC; figures are rounded to their
 * field's `decimals`.
 *
 * CSV headers carry the unit as an ASCII suffix, `ambient_temperature_c`, `air_pressure_hpa`: a
 * spreadsheet opening a CSV without a byte-order mark reads "°" as "Â°", and pandas users can write
 * `df.ambient_temperature_c`, which a header like "ambient_temperature (°C)" would not allow. The
 * JSON download keeps the field names plain and says the units once, in `units`.
 */

/** The ASCII suffix of each unit in a CSV header; typed by the table's units, so a new unit must be named here. */
const UNIT_SUFFIX: Record<(typeof WEATHER_FIELD_TABLE)[WeatherField]['unit'], string> = {
  '°C': 'c',
  '%': 'pct',
  '%RH': 'pct',
  hPa: 'hpa',
  '°': 'deg',
  'km/h': 'kmh',
  mm: 'mm',
};

/** The CSV header: `time`, then every weather field with its unit, in record order. */
export const DOWNLOAD_CSV_HEADER: readonly string[] = ['time', ...WEATHER_FIELDS.map((f) => `${f}_${UNIT_SUFFIX[WEATHER_FIELD_TABLE[f].unit]}`)];

/** Records per chunk written: big enough to keep the writes few, small enough to keep memory flat. */
const RECORDS_PER_CHUNK = 2_000;

const iso = (ms: number) => new Date(ms).toISOString();
const roundedValues = (r: StoredRecord) => WEATHER_FIELDS.map((f) => (r.values[f] === null ? null : roundReading(f, r.values[f])));

/** The records as CSV (RFC 4180, CRLF), header first. */
export async function* csvChunks(records: AsyncIterable<StoredRecord>): AsyncGenerator<string> {
  let chunk = csvRow(DOWNLOAD_CSV_HEADER);
  let count = 0;
  for await (const record of records) {
    chunk += csvRow([iso(record.ts), ...roundedValues(record)]);
    if (++count % RECORDS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

export interface DownloadWindow {
  stationId: string;
  from: number;
  to: number;
}

/** The records as one JSON object: { stationId, from, to, units, records: [{ time, <field>..., sensors }] }. */
export async function* jsonChunks(window: DownloadWindow, records: AsyncIterable<StoredRecord>): AsyncGenerator<string> {
  const units = Object.fromEntries(WEATHER_FIELDS.map((f) => [f, WEATHER_FIELD_TABLE[f].unit]));
  const head = { stationId: window.stationId, from: iso(window.from), to: iso(window.to), units };
  let chunk = `${JSON.stringify(head).slice(0, -1)},"records":[`;
  let count = 0;
  for await (const record of records) {
    const values = roundedValues(record);
    const row = { time: iso(record.ts), ...Object.fromEntries(WEATHER_FIELDS.map((f, i) => [f, values[i]])), sensors: record.sensors };
    chunk += (count === 0 ? '\n' : ',\n') + JSON.stringify(row);
    if (++count % RECORDS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n]}\n`;
}

/** `<station>-<from>-<to>.<ext>` with compact UTC times (no ":", which Windows refuses in file names). */
export function downloadFileName(window: DownloadWindow, ext: 'csv' | 'json'): string {
  const compact = (ms: number) => iso(ms).slice(0, 19).replace(/[-:]/g, '') + 'Z';
  return `${window.stationId}-${compact(window.from)}-${compact(window.to)}.${ext}`;
}
