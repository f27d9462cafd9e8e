/**
 * The kinds of place a virtual station stands in, and how each shifts the region's weather
 * (hardware/virtual-weather.ts). Three demo stations a few kilometres apart share fronts and air masses;
 * these profiles are what makes their charts differ.
 */

/** Environmental lapse rate, °C per metre of height. */
export const LAPSE_RATE = 0.0065;

/** Kinds of place a virtual station's weather is modelled on. */
export const VIRTUAL_SITES = ['field', 'riverside', 'hilltop'] as const;
export type VirtualSite = (typeof VIRTUAL_SITES)[number];

export interface SiteProfile {
  /** Height above the region's field, m: colder by the lapse rate, lower station pressure. */
  elevationM: number;
  /** Multiplies the daily temperature swing. */
  swing: number;
  /** °C colder at dawn than the field, from cold air draining into low ground on still nights. */
  frostPocket: number;
  /** Multiplies the dew point depression: below 1 is damper air. */
  dryness: number;
  /** Multiplies the wind. */
  wind: number;
}

/**
 * An open field is the region's reference. A riverside hollow has a larger daily swing, cold air pooling
 * at night (frost-prone) and damp air, sheltered from the wind. A hilltop 220 m up is ~1.4 °C colder,
 * ~26 hPa lower, more exposed to wind, with a smaller daily swing (its air is mixed by the wind) and often in cloud.
 */
export const SITE_PROFILES: Record<VirtualSite, SiteProfile> = {
  field: { elevationM: 0, swing: 1, frostPocket: 0, dryness: 1, wind: 1 },
  riverside: { elevationM: -15, swing: 1.35, frostPocket: 2, dryness: 0.5, wind: 0.7 },
  hilltop: { elevationM: 220, swing: 0.8, frostPocket: 0, dryness: 0.9, wind: 1.6 },
};
