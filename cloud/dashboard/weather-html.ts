import { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';
import { CHART_COLOURS, temperatureRainChart, windChart } from './weather-chart.ts';
import { compassPoint, escapeHtml, formatAge, formatNumber, NO_VALUE, withUnit, type TimeFormat } from './weather-format.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { ReadingField } from './weather-source.ts';
import type { StationSummary, WeatherSnapshot } from './weather-summary.ts';

/**
 * The farmers' weather page as one self-contained HTML document: inline CSS and SVG, no script, no
 * external asset, so it works on a phone on a farm network with no internet. Every value that came
 * from a station or the datastore passes through escapeHtml.
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

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2833;background:#f4f6f3}
header,main,footer{max-width:1100px;margin:0 auto;padding:12px 16px}header h1{margin:0;font-size:1.5rem}.muted{color:#566573;font-size:.9rem}
.stations{display:grid;gap:16px;grid-template-columns:repeat(auto-fill,minmax(min(100%,480px),1fr))}
.station{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.12)}.station h2{margin:0 0 2px;font-size:1.25rem;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:1px 8px;border-radius:10px;margin-left:6px;vertical-align:middle}
.live{background:#d5f5e3;color:#145a32}.stale{background:#fdebd0;color:#873600}
.alert{border-left:6px solid;border-radius:6px;padding:8px 10px;margin:8px 0}.alert strong{display:block}
.alert.frost{background:#eaf2f8;border-color:${CHART_COLOURS.frost}}.alert.heavy-rain{background:#e8f6f3;border-color:#117a65}.alert.high-wind{background:#fef5e7;border-color:${CHART_COLOURS.gust}}
.alert.now strong::before{content:"⚠ "}
.readings{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:6px 12px;margin:10px 0}
.readings div{background:#f8f9f9;border-radius:8px;padding:6px 8px}.readings dt{font-size:.8rem;color:#566573}.readings dd{margin:0;font-size:1.2rem;font-weight:600}
.why{display:block;font-size:.75rem;font-weight:400;color:#873600}
.chart{width:100%;height:auto;display:block;margin-top:6px}.chart text{font-size:15px;fill:#566573}.chart .grid{stroke:#e5e8e8}.chart .plot{fill:#fdfefe;stroke:#d5d8dc}
.legend{font-size:.8rem;color:#566573;margin:2px 0 8px}.legend span{white-space:nowrap;margin-right:10px}.legend i{display:inline-block;width:14px;height:4px;margin-right:4px;vertical-align:middle}
.empty{background:#fff;border-radius:12px;padding:24px;text-align:center}
.downloads a{display:inline-block;margin:4px 0;padding:8px 12px;background:#1f618d;color:#fff;border-radius:8px;text-decoration:none}
`;

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

function readings(s: StationSummary): string {
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

function legend(items: Array<[string, string, boolean]>): string {
  return `<p class="legend">${items.map(([colour, label, dashed]) => `<span><i style="background:${dashed ? `repeating-linear-gradient(90deg,${colour} 0 5px,transparent 5px 8px)` : colour}"></i>${escapeHtml(label)}</span>`).join('')}</p>`;
}

function station(s: StationSummary, input: PageInput): string {
  const { settings, time } = input;
  const badge = s.stale
    ? `<span class="badge stale">stale: no reading for ${escapeHtml(formatAge(s.ageMs).replace(' ago', ''))}</span>`
    : '<span class="badge live">live</span>';
  const alerts = s.alerts
    .map((a) => `<div class="alert ${a.kind} ${a.when}" role="alert"><strong>${escapeHtml(a.headline)}</strong>${escapeHtml(a.detail)}</div>`)
    .join('');
  const present = s.slices.filter((b) => b !== undefined);
  const chartInput = { from: s.from, slices: present, clock: time.clock };
  const charts =
    present.length === 0
      ? '<p class="muted">No readings in the last 24 hours, so no chart.</p>'
      : temperatureRainChart(chartInput, settings.frostAtOrBelowC) +
        legend([[CHART_COLOURS.air, 'air °C', false], [CHART_COLOURS.ground, 'ground °C', true], [CHART_COLOURS.rain, 'rain per hour, mm (right scale)', false], [CHART_COLOURS.frost, `frost line ${formatNumber(settings.frostAtOrBelowC, 0)} °C`, true]]) +
        windChart(chartInput, settings.highGustKmh) +
        legend([[CHART_COLOURS.wind, 'mean wind km/h', false], [CHART_COLOURS.gust, 'gusts km/h', false], [CHART_COLOURS.limit, `high-wind level ${formatNumber(settings.highGustKmh, 0)} km/h`, true]]);
  const day = s.day;
  return (
    `<section class="station" id="station-${escapeHtml(encodeURIComponent(s.stationId))}">` +
    `<h2>${escapeHtml(s.stationId)}${badge}</h2>` +
    `<p class="muted">Last reading ${escapeHtml(time.dateTime(s.latest.ts))} (${escapeHtml(formatAge(s.ageMs))})</p>` +
    alerts +
    readings(s) +
    `<p class="muted">Last 24 h: air low ${escapeHtml(withUnit(day.airMin, WEATHER_FIELD_TABLE.ambient_temperature.symbol))}, ground low ${escapeHtml(withUnit(day.groundMin, WEATHER_FIELD_TABLE.ground_temperature.symbol))}, strongest gust ${escapeHtml(withUnit(day.gustMax, WEATHER_FIELD_TABLE.wind_gust_speed.symbol, 0))}.</p>` +
    charts +
    '</section>'
  );
}

function downloads(list: PublicDownload[], time: TimeFormat): string {
  if (list.length === 0) return '<section class="downloads"><h2>Downloads</h2><p class="muted">No data sets are shared publicly yet.</p></section>';
  const items = list
    .map((d) => {
      const updated = d.lastUpdateTime === undefined ? '' : ` <span class="muted">updated ${escapeHtml(time.dateTime(d.lastUpdateTime * 1000))}</span>`;
      return `<li><a href="${escapeHtml(d.csv)}" download="${escapeHtml(d.datasetName)}.csv">${escapeHtml(d.datasetName)}.csv</a>${updated}</li>`;
    })
    .join('');
  return `<section class="downloads"><h2>Downloads</h2><p class="muted">Spreadsheet files (CSV) that open in Excel, LibreOffice or Google Sheets.</p><ul>${items}</ul></section>`;
}

export function renderPage(input: PageInput): string {
  const { snapshot, settings, time } = input;
  const stations =
    snapshot.stations.length === 0
      ? '<div class="empty"><h2>No station has reported yet</h2><p>When a weather station sends its first reading, it appears here with its charts and alerts.</p></div>'
      : `<div class="stations">${snapshot.stations.map((s) => station(s, input)).join('')}</div>`;
  const hidden = snapshot.hidden > 0 ? `<p class="muted">${snapshot.hidden} station(s) silent for more than ${settings.hideAfterDays} days are not shown.</p>` : '';
  const refresh = settings.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${settings.refreshSeconds}">` : '';
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    refresh +
    `<title>${escapeHtml(settings.title)}</title><style>${STYLE}</style></head><body>` +
    `<header><h1>${escapeHtml(settings.title)}</h1><p class="muted">Updated ${escapeHtml(time.dateTime(snapshot.now))} (${escapeHtml(time.zone)} time)` +
    `${settings.refreshSeconds > 0 ? `; this page refreshes itself every ${Math.round(settings.refreshSeconds / 60) || 1} min` : ''}.</p></header>` +
    `<main>${stations}${hidden}${downloads(input.downloads, time)}</main>` +
    `<footer class="muted">Alerts: frost when air or ground is at or below ${escapeHtml(formatNumber(settings.frostAtOrBelowC))} °C; heavy rain at ${escapeHtml(formatNumber(settings.heavyRainMmPerHour))} mm in an hour or ${escapeHtml(formatNumber(settings.heavyRainMmPerDay))} mm in a day; high wind when gusts reach ${escapeHtml(formatNumber(settings.highGustKmh, 0))} km/h. ` +
    `A station is marked stale after ${settings.staleAfterMinutes} min without a reading. "${NO_VALUE}" means the station sent no value, with the sensor's status beside it. Measured values only, not a forecast.</footer>` +
    '</body></html>'
  );
}
