import { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';
import { SERIES_PATHS, SERIES_QUANTITY_NAMES, SERIES_RANGE_NAMES, SERIES_RANGES, type SeriesQuantity, type SeriesRange } from './series-contract.ts';
import { chartAttributes, CHART_SPECS, STATION_CHARTS, type ChartName } from './weather-chart.ts';
import { escapeHtml, type TimeFormat } from './weather-format.ts';
import { alertsHtml, badge, COMPARE_PATH, dayLine, lastReadingLine, readings, shell, stationPath } from './weather-html.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { StationSummary } from './weather-summary.ts';

/**
 * A station's own page (latest readings, alerts, a chart per quantity over a chosen range, downloads)
 * and the compare page (one quantity across stations). The server renders every link, form and chart
 * container; the chart script (client/weather-page.ts) fills the containers from the series JSON named
 * in `data-series`. Range links are plain links, so they work without JavaScript too.
 */

const DAY_MS = 86_400_000;

export interface StationPageInput {
  station: StationSummary;
  range: SeriesRange;
  settings: WeatherPageSettings;
  time: TimeFormat;
  now: number;
}

function rangeLinks(range: SeriesRange, href: (r: SeriesRange) => string): string {
  const items = SERIES_RANGE_NAMES.map((r) => {
    const current = r === range ? ' aria-current="true"' : '';
    return `<li><a href="${escapeHtml(href(r))}" data-range="${r}"${current}>${escapeHtml(SERIES_RANGES[r].label)}</a></li>`;
  });
  return `<nav aria-label="Time range"><ul class="ranges">${items.join('')}</ul></nav>`;
}

function chartTitle(name: ChartName, range: SeriesRange): string {
  if (name === 'rain') return `Rain per ${SERIES_RANGES[range].rainBucketMs === DAY_MS ? 'day' : 'hour'} (mm)`;
  if (name === 'compare') return '';
  const spec = CHART_SPECS[name];
  return spec.unit ? `${spec.title} (${spec.unit})` : spec.title;
}

function chartBox(name: ChartName, title: string): string {
  const { unit, lines } = chartAttributes(name);
  return (
    `<section class="card chart" data-chart="${name}" data-unit="${escapeHtml(unit)}" data-lines="${escapeHtml(JSON.stringify(lines))}"><h3>${escapeHtml(title)}</h3><div class="plot"></div>` +
    '<noscript><p class="nojs">The chart needs JavaScript; the latest readings above and the downloads below work without it.</p></noscript></section>'
  );
}

/** `YYYY-MM-DD` of an instant, UTC: what a date input takes. */
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function downloadsBox(stationId: string, range: SeriesRange, now: number): string {
  const q = `?range=${range}`;
  const csv = SERIES_PATHS.download(stationId, 'csv');
  const json = SERIES_PATHS.download(stationId, 'json');
  const label = SERIES_RANGES[range].label;
  return (
    '<section class="card downloads"><h2>Downloads</h2>' +
    `<p class="muted">Every reading of the last ${escapeHtml(label)}, times in UTC (ISO 8601), units in the header. CSV opens in Excel, LibreOffice or Google Sheets.</p>` +
    `<a class="button" data-download="csv" href="${escapeHtml(csv + q)}">CSV, last ${escapeHtml(label)}</a>` +
    `<a class="button" data-download="json" href="${escapeHtml(json + q)}">JSON, last ${escapeHtml(label)}</a>` +
    `<form method="get" action="${escapeHtml(csv)}" data-custom-download><label>From (UTC day)<input type="date" name="from" required value="${isoDay(now - SERIES_RANGES[range].spanMs)}"></label>` +
    `<label>To (UTC day, included)<input type="date" name="to" required value="${isoDay(now)}"></label>` +
    `<button type="submit" formaction="${escapeHtml(csv)}">CSV</button><button type="submit" formaction="${escapeHtml(json)}">JSON</button></form>` +
    '</section>'
  );
}

export function renderStationPage(input: StationPageInput): string {
  const { station: s, range, settings, time, now } = input;
  const series = `${SERIES_PATHS.station(s.stationId)}?range=${range}`;
  const charts = STATION_CHARTS.map((name) => chartBox(name, chartTitle(name, range))).join('');
  const main =
    `<section class="station" data-station="${escapeHtml(s.stationId)}">` +
    `<h2><a href="${escapeHtml(stationPath(s.stationId))}">${escapeHtml(s.stationId)}</a>${badge(s)}</h2>` +
    lastReadingLine(s, time) +
    alertsHtml(s.alerts, time) +
    readings(s) +
    dayLine(s) +
    '</section>' +
    rangeLinks(range, (r) => `${stationPath(s.stationId)}?range=${r}`) +
    `<div class="charts" data-series="${escapeHtml(series)}" data-range="${range}">${charts}</div>` +
    downloadsBox(s.stationId, range, now);
  return shell({ settings, time, title: s.stationId, now, main, script: true });
}

/** The quantities a farmer can compare, with their plain names. */
export const QUANTITY_LABELS: Record<SeriesQuantity, string> = {
  ambient_temperature: WEATHER_FIELD_TABLE.ambient_temperature.label,
  ground_temperature: WEATHER_FIELD_TABLE.ground_temperature.label,
  humidity: WEATHER_FIELD_TABLE.humidity.label,
  air_pressure: WEATHER_FIELD_TABLE.air_pressure.label,
  wind_speed: 'Mean wind',
  wind_gust_speed: 'Strongest gust',
  wind_direction: WEATHER_FIELD_TABLE.wind_direction.label,
};

export interface ComparePageInput {
  quantity: SeriesQuantity;
  range: SeriesRange;
  stationIds: string[];
  settings: WeatherPageSettings;
  time: TimeFormat;
  now: number;
}

export const comparePath = (quantity: SeriesQuantity, range: SeriesRange) => `${COMPARE_PATH}?quantity=${quantity}&range=${range}`;

export function renderComparePage(input: ComparePageInput): string {
  const { quantity, range, settings, time, now } = input;
  const quantities = SERIES_QUANTITY_NAMES.map((q) => {
    const current = q === quantity ? ' aria-current="true"' : '';
    return `<li><a href="${escapeHtml(comparePath(q, range))}" data-quantity="${q}"${current}>${escapeHtml(QUANTITY_LABELS[q])}</a></li>`;
  }).join('');
  const unit = WEATHER_FIELD_TABLE[quantity].symbol;
  const names = input.stationIds.length === 0 ? 'no station has reported yet' : input.stationIds.map((id) => `<a href="${escapeHtml(stationPath(id))}">${escapeHtml(id)}</a>`).join(', ');
  const main =
    `<h2>Compare stations: ${escapeHtml(QUANTITY_LABELS[quantity])}</h2>` +
    `<nav aria-label="Quantity"><ul class="quantities">${quantities}</ul></nav>` +
    rangeLinks(range, (r) => comparePath(quantity, r)) +
    `<div class="charts" data-compare="${escapeHtml(`${SERIES_PATHS.compare}?quantity=${quantity}&range=${range}`)}" data-range="${range}" data-quantity="${quantity}">` +
    chartBox('compare', `${QUANTITY_LABELS[quantity]} (${unit}), last ${SERIES_RANGES[range].label}`) +
    '</div>' +
    `<p class="muted">Stations: ${names}.</p>`;
  return shell({ settings, time, title: 'Compare stations', now, main, script: true });
}
