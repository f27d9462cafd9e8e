import { z } from 'zod';
import { alertThresholds, type AlertThresholds } from '../alerts/alert-settings.ts';

/**
 * The farmers' weather page's part of the config file (`weatherPage:`). Every key has a default, so the
 * page works with no config at all. The alert thresholds (frost and wind lines, the footer) are the
 * `alerts:` section's (cloud/alerts/alert-settings.ts), defined there once: the parsed page settings carry
 * their defaults, and startCloud lays the configured ones over them (withAlertThresholds).
 */

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const weatherPageSettings = z
  .object({
    /** Heading of the page. Default "Hedgerow weather". */
    title: z.string().min(1).max(80).default('Hedgerow weather'),
    /** Datastore the weather pipeline writes (records with device_id and ts). Default weather_datastore. */
    datastoreName: z.string().regex(/^[a-zA-Z0-9_]{1,128}$/, 'use a datastore name: letters, digits and _').default('weather_datastore'),
    /** IANA time zone the page shows times in, e.g. Europe/London. Default: the server's own zone. */
    timeZone: z.string().refine(isTimeZone, 'use an IANA time zone such as Europe/London or UTC').optional(),
    /** A station with no reading for this long is marked stale. Default 30 minutes. */
    staleAfterMinutes: z.number().int().min(1).max(7 * 24 * 60).default(30),
    /** A station silent for longer than this is left off the page. Default 30 days. */
    hideAfterDays: z.number().int().min(1).max(3650).default(30),
    /** Most stations shown on the page. Default 50. */
    maxStations: z.number().int().min(1).max(1000).default(50),
    /** The page reloads itself this often (no script needed). Default 300 s; 0 turns it off. */
    refreshSeconds: z.number().int().min(0).max(86_400).default(300),
  })
  .strict()
  .transform((page) => withAlertThresholds(page, alertThresholds.parse({})));

export type WeatherPageSettings = z.output<typeof weatherPageSettings>;

/** The page's settings with the alert thresholds it draws (the default ones: per-station overrides stay in the alerts). */
export function withAlertThresholds<P extends object>(page: P, thresholds: AlertThresholds): P & AlertThresholds {
  const { frostAtOrBelowC, heavyRainMmPerHour, heavyRainMmPerDay, highGustKmh, offlineMinutes } = thresholds;
  return { ...page, frostAtOrBelowC, heavyRainMmPerHour, heavyRainMmPerDay, highGustKmh, offlineMinutes };
}
