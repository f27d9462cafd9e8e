import { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';
import { WEATHER_ASSETS } from './weather-assets.ts';
import { compassPoint, escapeHtml, formatAge, formatNumber, NO_VALUE, withUnit, type TimeFormat } from './weather-format.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { ReadingField } from './weather-source.ts';
import type { StationSummary, WeatherSnapshot } from './weather-summary.ts';

/**
 * The farmers' weather page's station list and the frame every page shares, as server-rendered HTML
 * that is complete with JavaScript off: latest readings, their age and the alerts. The stylesheet and
 * the chart script are served by the engine itself (weather-assets.ts), nothing from the internet.
 * Every value that came from a station or the datastore passes through escapeHtml.
 */

export interface PublicDownload {
  datasetName: string;
  /** Path of the CSV (same origin). */
  csv: string;
  /** Epoch seconds of the dataset's last update, when known (as GET /public/datasets gives it). */
  lastUpdateTime?: number;
}

export interface PageInput {
  snapshot: WeatherSnapshot;
  settings: WeatherPageSettings;
  time: TimeFormat;
  downloads: PublicDownload[];
}

/** Which station sensors feed each field (device/station-sensors.ts), to say why a value is missing. */
const FIELD_SENSORS: Record<ReadingField, readonly string[]> = {
  ambient_temperature: ['bme280', 'htu21d'],
  ground_temperature: ['ds18b20'],
  humidity: ['bme280', 'htu21d'],
  air_pressure: ['bme280', 'bmp180'],
  wind_speed: ['anemometer'],
  wind_gust_speed: ['anemometer'],
  wind_direction: ['wind_vane'],
  rainfall: ['rain_gauge'],
};


function missing(reason: string): string {
  return `${NO_VALUE}<span class="why">${escapeHtml(reason)}</span>`;
}

function field(summary: StationSummary, name: ReadingField, text: string): string {
  if (summary.latest.values[name] !== null) return escapeHtml(text);
  const problems = FIELD_SENSORS[name]
    .map((sensor) => [sensor, summary.latest.sensors[sensor]] as const)
    .filter(([, status]) => status !== undefined && status !== 'ok')
    .map(([sensor, status]) => `${sensor}: ${status}`);
  return missing(problems.length > 0 ? problems.join('; ') : 'no reading');
}

function reading(label: string, valueHtml: string): string {
  return `<div><dt>${escapeHtml(label)}</dt><dd>${valueHtml}</dd></div>`;
}

/** A rain total; when there is none, the gauge's status, or that the station sent nothing in that time. */
function rain(s: StationSummary, total: number | null, silent: string): string {
  if (total !== null) return escapeHtml(withUnit(total, WEATHER_FIELD_TABLE.rainfall.symbol));
  return s.latest.values.rainfall === null ? field(s, 'rainfall', NO_VALUE) : missing(silent);
}

/** A field's latest value under its contract label, in its unit. */
function measured(s: StationSummary, name: ReadingField, digits = 1): string {
  const spec = WEATHER_FIELD_TABLE[name];
  return reading(spec.label, field(s, name, withUnit(s.latest.values[name], spec.symbol, digits)));
}

export function readings(s: StationSummary): string {
  const direction = s.latest.values.wind_direction;
  return (
    '<dl class="readings">' +
    measured(s, 'ambient_temperature') +
    measured(s, 'ground_temperature') +
    measured(s, 'humidity', 0) +
    measured(s, 'air_pressure', 0) +
    measured(s, 'wind_speed', 0) +
    reading(WEATHER_FIELD_TABLE.wind_direction.label, field(s, 'wind_direction', direction === null ? NO_VALUE : `${compassPoint(direction)} (${formatNumber(direction, 0)}${WEATHER_FIELD_TABLE.wind_direction.symbol})`)) +
    measured(s, 'wind_gust_speed', 0) +
    reading(`${WEATHER_FIELD_TABLE.rainfall.label}, last hour`, rain(s, s.rainLastHour, 'no reading in the last hour')) +
    reading(`${WEATHER_FIELD_TABLE.rainfall.label}, last 24 h`, rain(s, s.day.rain, 'no reading in the last 24 h')) +
    '</dl>'
  );
}

/** An alert as the page shows it; since/until (epoch ms or ISO text) when the alert carries them. */
export interface ShownAlert {
  kind: string;
  headline: string;
  detail: string;
  when?: string;
  since?: number | string | null;
  until?: number | string | null;
}

function instant(value: number | string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export function alertsHtml(alerts: readonly ShownAlert[], time: TimeFormat): string {
  return alerts
    .map((a) => {
      const since = instant(a.since);
      const until = instant(a.until);
      const span = [since === undefined ? '' : `since ${time.dateTime(since)}`, until === undefined ? '' : `until ${time.dateTime(until)}`].filter(Boolean).join(', ');
      const classes = ['alert', a.kind, a.when ?? ''].filter(Boolean).map(escapeHtml).join(' ');
      return `<div class="${classes}" role="alert"><strong>${escapeHtml(a.headline)}</strong>${span ? `<span class="when">${escapeHtml(span)}</span>` : ''}${escapeHtml(a.detail)}</div>`;
    })
    .join('');
}

export function badge(s: StationSummary): string {
  return s.stale
    ? `<span class="badge stale">stale: no reading for ${escapeHtml(formatAge(s.ageMs).replace(' ago', ''))}</span>`
    : '<span class="badge live">live</span>';
}

export function lastReadingLine(s: StationSummary, time: TimeFormat): string {
  return `<p class="muted">Last reading ${escapeHtml(time.dateTime(s.latest.ts))} (${escapeHtml(formatAge(s.ageMs))})</p>`;
}

export function dayLine(s: StationSummary): string {
  const day = s.day;
  return `<p class="muted">Last 24 h: air low ${escapeHtml(withUnit(day.airMin, WEATHER_FIELD_TABLE.ambient_temperature.symbol))}, ground low ${escapeHtml(withUnit(day.groundMin, WEATHER_FIELD_TABLE.ground_temperature.symbol))}, strongest gust ${escapeHtml(withUnit(day.gustMax, WEATHER_FIELD_TABLE.wind_gust_speed.symbol, 0))}.</p>`;
}

/** The path of a station's own page. */
export const stationPath = (stationId: string) => `/stations/${encodeURIComponent(stationId)}`;
export const COMPARE_PATH = '/compare';

function stationCard(s: StationSummary, input: PageInput): string {
  const href = escapeHtml(stationPath(s.stationId));
  return (
    `<section class="station" id="station-${escapeHtml(encodeURIComponent(s.stationId))}" data-station="${escapeHtml(s.stationId)}">` +
    `<h2><a href="${href}">${escapeHtml(s.stationId)}</a>${badge(s)}</h2>` +
    lastReadingLine(s, input.time) +
    alertsHtml(s.alerts, input.time) +
    readings(s) +
    dayLine(s) +
    `<a class="more" href="${href}">Charts and downloads for ${escapeHtml(s.stationId)} →</a>` +
    '</section>'
  );
}

function downloads(list: PublicDownload[], time: TimeFormat): string {
  if (list.length === 0) return '<section class="downloads"><h2>Downloads</h2><p class="muted">No data sets are shared publicly yet.</p></section>';
  const items = list
    .map((d) => {
      const updated = d.lastUpdateTime === undefined ? '' : ` <span class="muted">updated ${escapeHtml(time.dateTime(d.lastUpdateTime * 1000))}</span>`;
      return `<li><a class="button" href="${escapeHtml(d.csv)}" download="${escapeHtml(d.datasetName)}.csv">${escapeHtml(d.datasetName)}.csv</a>${updated}</li>`;
    })
    .join('');
  return `<section class="downloads"><h2>Downloads</h2><p class="muted">Spreadsheet files (CSV) that open in Excel, LibreOffice or Google Sheets. Each station's page has its own CSV and JSON of any range.</p><ul>${items}</ul></section>`;
}

export interface ShellInput {
  settings: WeatherPageSettings;
  time: TimeFormat;
  /** Shown after the site title in the tab, e.g. a station id. */
  title?: string;
  /** Epoch ms the figures are from, for the "Updated" line; none on error pages. */
  now?: number;
  main: string;
  /** Load the chart script (pages with charts only). */
  script?: boolean;
}

/** Every page's frame: one stylesheet and at most one script, both served by the engine itself (no inline code, so the CSP can forbid it). */
export function shell(input: ShellInput): string {
  const { settings, time, now } = input;
  const refresh = now !== undefined && settings.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${settings.refreshSeconds}">` : '';
  const updated =
    now === undefined
      ? ''
      : `<p class="muted">Updated ${escapeHtml(time.dateTime(now))} (${escapeHtml(time.zone)} time)` +
        `${settings.refreshSeconds > 0 ? `; this page refreshes itself every ${Math.round(settings.refreshSeconds / 60) || 1} min` : ''}.</p>`;
  const title = input.title ? `${input.title} · ${settings.title}` : settings.title;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<meta name="color-scheme" content="light dark">' +
    // No icon to fetch: without this every page asks /favicon.ico, which the signed API answers with a 403.
    '<link rel="icon" href="data:,">' +
    refresh +
    `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="${WEATHER_ASSETS.style}">` +
    (input.script ? `<script defer src="${WEATHER_ASSETS.script}"></script>` : '') +
    `</head><body data-time-zone="${escapeHtml(time.zone)}">` +
    `<header><h1>${escapeHtml(settings.title)}</h1><nav><a href="/">All stations</a><a href="${COMPARE_PATH}">Compare stations</a></nav>${updated}</header>` +
    `<main>${input.main}</main>` +
    `<footer class="muted">Alerts: frost when air or ground is at or below ${escapeHtml(formatNumber(settings.frostAtOrBelowC))} °C; heavy rain at ${escapeHtml(formatNumber(settings.heavyRainMmPerHour))} mm in an hour or ${escapeHtml(formatNumber(settings.heavyRainMmPerDay))} mm in a day; high wind when gusts reach ${escapeHtml(formatNumber(settings.highGustKmh, 0))} km/h. ` +
    `A station is marked stale after ${settings.staleAfterMinutes} min without a reading. "${NO_VALUE}" means the station sent no value, with the sensor's status beside it. Measured values only, not a forecast.</footer>` +
    '</body></html>'
  );
}

/** The station list: every station's latest reading, age and alerts, readable with JavaScript off. */
export function renderPage(input: PageInput): string {
  const { snapshot, settings } = input;
  const stations =
    snapshot.stations.length === 0
      ? '<div class="empty"><h2>No station has reported yet</h2><p>When a weather station sends its first reading, it appears here with its latest values and alerts.</p></div>'
      : `<div class="stations">${snapshot.stations.map((s) => stationCard(s, input)).join('')}</div>`;
  const hidden = snapshot.hidden > 0 ? `<p class="muted">${snapshot.hidden} station(s) silent for more than ${settings.hideAfterDays} days are not shown.</p>` : '';
  return shell({ settings, time: input.time, now: snapshot.now, main: `${stations}${hidden}${downloads(input.downloads, input.time)}` });
}

/** A 4xx page in plain words, with a way on. */
export function renderProblem(input: { settings: WeatherPageSettings; time: TimeFormat; heading: string; message: string; linksHtml: string }): string {
  const main = `<div class="empty"><h2>${escapeHtml(input.heading)}</h2><p>${escapeHtml(input.message)}</p><p>${input.linksHtml}</p></div>`;
  return shell({ settings: input.settings, time: input.time, title: input.heading, main });
}
