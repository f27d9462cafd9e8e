import { join } from 'node:path';
import type { VirtualSite } from '../hardware/virtual-site.ts';
import type { HedgerowSettings } from './hedgerow-settings.ts';

/**
 * `npm start`'s demo: three virtual stations a few kilometres apart, which share a region's fronts and
 * differ by their site, so the page has three charts worth comparing. Each publishes as itself: its own
 * outbox, uplink client id and topic. Naming a station (station.id in the config file, or --station-id) runs that one station instead.
 */

export interface DemoStation {
  id: string;
  site: VirtualSite;
}

export const DEMO_STATIONS: readonly DemoStation[] = [
  { id: 'north-field', site: 'field' },
  { id: 'riverside', site: 'riverside' },
  { id: 'hilltop', site: 'hilltop' },
];

/** The demo stations' shared region (climate and fronts). */
export const DEMO_REGION = 'hedgerow-demo';

/**
 * The demo's live record interval, seconds. Short, so a newcomer sees records arrive; longer than the
 * anemometer's 5 s gust window, so a record's gust is the busiest of several windows and not its mean.
 */
export const DEMO_INTERVAL_S = 30;

/** One demo station's settings: the shared settings with its id, site and outbox (the first keeps the default outbox path). */
export function demoStationSettings(settings: HedgerowSettings, station: DemoStation, index: number): HedgerowSettings {
  return {
    ...settings,
    station: { ...settings.station, id: station.id },
    hardware: { ...settings.hardware, virtualWeather: { site: station.site, region: DEMO_REGION } },
    outbox: index === 0 ? settings.outbox : { ...settings.outbox, path: join('stations', station.id, settings.outbox.path) },
  };
}
