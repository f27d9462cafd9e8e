import { edgeRateForKmh, WEATHER_HAT_KMH_PER_HZ } from './anemometer.ts';
import { tipRateForMmPerHour } from './rain-gauge.ts';
import { LAPSE_RATE, SITE_PROFILES, type SiteProfile, type VirtualSite } from './virtual-site.ts';

/**
 * Believable weather for virtual stations, as a pure function of time, station id and site: the same id
 * and instant always give the same weather (until an override is set, see override()), and different ids
 * get different climates and fronts. Stations that share a region share its climate, air masses and
 * fronts, as neighbours do, and differ by their site (a hollow, a hilltop) and local gusts. It is a
 * mid-latitude, northern-hemisphere sort of place: a daily cycle (coldest near dawn, warmest mid
 * afternoon), a yearly one, and fronts every few days that bring falling pressure, cloud, showers,
 * stronger wind and a wind that backs ahead of them and veers behind.
 */

const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;
const YEAR_DAYS = 365.25;
/** Fronts are placed one per slot at most; a slot is two and a half days. */
const FRONT_SLOT_HOURS = 60;
const FRONT_CHANCE = 0.7;
/** Slots either side whose fronts still reach the present (their tails decay to < 1 %). */
const FRONT_REACH_SLOTS = 2;
const COLDEST_DAY_OF_YEAR = 20;
const DAWN_HOUR = 6;
const WARMEST_HOUR = 15;
/** Ground at ~10 cm: the daily wave arrives ~3 h late at ~30 % of the air's swing. */
const GROUND_LAG_HOURS = 3;
const GROUND_DAMPING = 0.3;
const PRESSURE_LIMITS = [950, 1050] as const;
/** The anemometer's gust window (hardware/anemometer.ts GUST_WINDOW_MS), for windOver(). */
const GUST_WINDOW_MS = 5000;
/** windOver() samples the fast gust wobble this often: several samples per window, cheap enough for a week of backfill. */
const WIND_SAMPLE_MS = 1000;

export interface VirtualWeatherOptions {
  /** Default: an open field. */
  site?: VirtualSite;
  /** Stations with the same region share climate and fronts. Default: the station id (a region of its own). */
  region?: string;
}

export interface Weather {
  /** Air temperature, °C. */
  temperature: number;
  /** Station pressure, hPa. */
  pressure: number;
  /** Relative humidity, %. */
  humidity: number;
  /** Soil temperature at the probe's depth, °C. */
  groundTemperature: number;
  /** Wind speed at this instant, km/h (gusts and lulls included). */
  windSpeedKmh: number;
  /** Direction the wind comes from, degrees in [0, 360). */
  windDirectionDeg: number;
  /** Rain rate at this instant, mm/h. */
  rainRateMmPerHour: number;
  /** Air purity, % (100 = free of detectable contaminants), as the air quality board reports it. */
  airQuality: number;
}

export interface Front {
  /** When it passes, epoch ms. */
  atMs: number;
  /** 0.3 (weak) .. 1 (vigorous). */
  intensity: number;
  /** Time scale of its passage, hours. */
  widthHours: number;
}

/** Per-station climate, drawn once from the seed. */
interface Climate {
  meanTemperature: number;
  seasonalSwing: number;
  dailySwing: number;
  solarOffsetHours: number;
  basePressure: number;
  baseWindKmh: number;
  gustiness: number;
  prevailingDeg: number;
  showeriness: number;
  pollution: number;
}

/** The model's quantities a record carries; an override may set any of them. */
export type WeatherOverride = Partial<Weather>;

export class VirtualWeather {
  /** The station's own seed: local gusts and wobbles. */
  readonly seed: number;
  /** The region's seed: climate, air masses and fronts. */
  readonly regionSeed: number;
  readonly site: VirtualSite;
  private readonly climate: Climate;
  private readonly profile: SiteProfile;
  private overrides: WeatherOverride = {};

  constructor(
    readonly stationId: string,
    options: VirtualWeatherOptions = {},
  ) {
    this.seed = fnv1a(stationId);
    this.regionSeed = options.region === undefined ? this.seed : fnv1a(options.region);
    this.site = options.site ?? 'field';
    this.profile = SITE_PROFILES[this.site];
    const draw = (channel: number, low: number, high: number): number => low + (high - low) * hash01(this.regionSeed, channel, 0);
    this.climate = {
      meanTemperature: draw(1, 7, 13),
      seasonalSwing: draw(2, 5, 8),
      dailySwing: draw(3, 3.5, 6),
      solarOffsetHours: draw(4, -0.7, 0.7),
      basePressure: draw(5, 1011, 1018),
      baseWindKmh: draw(6, 6, 13),
      gustiness: draw(7, 0.3, 0.45),
      prevailingDeg: draw(8, 200, 280),
      showeriness: draw(9, 0.8, 1.2),
      pollution: draw(10, 4, 12),
    };
  }

  /**
   * Sets quantities that hold until changed, whatever the model says (a teacher's "now it freezes"); an
   * empty object clears them. weatherAt() and so every virtual sensor carry them from the next update.
   */
  override(values: WeatherOverride): void {
    this.overrides = { ...values };
  }

  /** The quantities set by override(), if any. */
  get overridden(): WeatherOverride {
    return { ...this.overrides };
  }

  weatherAt(epochMs: number): Weather {
    return { ...this.modelAt(epochMs), ...this.overrides };
  }

  /**
   * The wind an anemometer would report over [startMs, endMs): the mean speed and the gust (the
   * highest mean over one 5 s window of the epoch grid, as hardware/anemometer.ts counts it), from the
   * instantaneous speed sampled every second. For records made without running the sensors (backfill).
   */
  windOver(startMs: number, endMs: number): { meanKmh: number; gustKmh: number } {
    const fixed = this.overrides.windSpeedKmh;
    if (fixed !== undefined) return { meanKmh: fixed, gustKmh: fixed };
    // The mean wind changes over hours: once per interval is enough; the gust wobble is sampled.
    const meanWind = this.meanWindAt(startMs / 2 + endMs / 2);
    let sum = 0;
    let samples = 0;
    let windowSum = 0;
    let windowSamples = 0;
    let window = Math.floor(startMs / GUST_WINDOW_MS);
    let gust = 0;
    for (let t = startMs + WIND_SAMPLE_MS / 2; t < endMs; t += WIND_SAMPLE_MS) {
      const speed = Math.max(0, meanWind * this.gustFactor(t));
      const w = Math.floor(t / GUST_WINDOW_MS);
      if (w !== window) {
        if (windowSamples * WIND_SAMPLE_MS >= GUST_WINDOW_MS) gust = Math.max(gust, windowSum / windowSamples);
        window = w;
        windowSum = 0;
        windowSamples = 0;
      }
      windowSum += speed;
      windowSamples += 1;
      sum += speed;
      samples += 1;
    }
    if (windowSamples * WIND_SAMPLE_MS >= GUST_WINDOW_MS) gust = Math.max(gust, windowSum / windowSamples);
    const meanKmh = samples > 0 ? sum / samples : 0;
    // As the anemometer: an interval too short to fill a window reports its mean as the gust.
    return { meanKmh, gustKmh: Math.max(gust, meanKmh) };
  }

  private modelAt(epochMs: number): Weather {
    const c = this.climate;
    const site = this.profile;
    const hours = epochMs / HOUR_MS;
    const solarHour = mod(hours + c.solarOffsetHours, DAY_HOURS);
    const front = this.frontEffects(hours);

    const airMass = 3 * this.noise(11, hours / 40) - 2.5 * front.behind;
    const swing = c.dailySwing * site.swing * (1 - 0.6 * front.cloud);
    const showers = c.showeriness * 4.5 * (front.rain * (1 + 0.9 * this.noise(12, hours * 1.5)) - 0.45);
    const rain = Math.max(0, showers) + this.stormShower(hours, solarHour);
    const wet = Math.min(1, rain);
    const baseTemperature = c.meanTemperature + c.seasonalSwing * seasonal(hours) + airMass - LAPSE_RATE * site.elevationM;
    const meanWind = this.meanWindFrom(solarHour, hours, front.wind);
    // Cold air pools in a hollow on clear, still nights: most at dawn, none by day or in a wind.
    const pooling = site.frostPocket * (1 - front.cloud) * Math.max(0, -daily(solarHour)) * Math.max(0, 1 - meanWind / 25);
    const temperature = baseTemperature + swing * daily(solarHour) - 1.5 * wet - pooling;

    // The dew point follows the air mass, not the daily cycle, so RH peaks at dawn and dips mid
    // afternoon; rain brings it up to the air temperature.
    const depression = site.dryness * (2.5 + 3.5 * (1 - front.cloud) * (0.6 + 0.4 * this.noise(13, hours / 20))) * (1 - 0.9 * wet);
    const dewPoint = Math.min(temperature, baseTemperature - 0.7 * swing - pooling - depression);
    const humidity = clamp((100 * saturation(dewPoint)) / saturation(temperature), 5, 100);

    const groundTemperature =
      c.meanTemperature + 1 + c.seasonalSwing * 0.9 * seasonal(hours - 7 * DAY_HOURS) +
      0.5 * (3 * this.noise(11, (hours - 24) / 40)) - LAPSE_RATE * site.elevationM +
      GROUND_DAMPING * (c.dailySwing * site.swing * daily(mod(solarHour - GROUND_LAG_HOURS, DAY_HOURS)) - pooling);

    const seaLevelPressure = clamp(
      c.basePressure + 9 * this.noise(14, hours / 90) + 3 * this.noise(15, hours / 18) - 24 * front.trough +
        0.6 * Math.cos((2 * Math.PI * (solarHour - 10)) / 12),
      ...PRESSURE_LIMITS,
    );
    // The barometric formula of the standard atmosphere: a station reports the pressure at its own height.
    const pressure = seaLevelPressure * (1 - 2.25577e-5 * site.elevationM) ** 5.25588;

    const windSpeedKmh = Math.max(0, meanWind * this.gustFactor(epochMs));

    const seconds = epochMs / 1000;
    const wobble = (18 / (1 + meanWind / 15)) * this.localNoise(19, seconds / 20);
    const windDirectionDeg = mod(c.prevailingDeg + 80 * this.noise(24, hours / 70) + 40 * this.noise(20, hours / 14) + front.veer + wobble, 360);

    const traffic = gaussian(solarHour - 8, 1.5) + 0.8 * gaussian(solarHour - 18, 2);
    const stagnation = 1.6 - Math.min(1, meanWind / 20);
    const pollution = (c.pollution + 10 * traffic + 3 * this.localNoise(21, hours / 3)) * stagnation * (1 - 0.5 * wet);
    const airQuality = clamp(100 - pollution, 0, 100);

    return {
      temperature,
      pressure,
      humidity,
      groundTemperature,
      windSpeedKmh,
      windDirectionDeg,
      rainRateMmPerHour: rain,
      airQuality,
    };
  }

  /** The mean wind (no gusts) at an instant, km/h. */
  private meanWindAt(epochMs: number): number {
    const hours = epochMs / HOUR_MS;
    return this.meanWindFrom(mod(hours + this.climate.solarOffsetHours, DAY_HOURS), hours, this.frontEffects(hours).wind);
  }

  private meanWindFrom(solarHour: number, hours: number, frontWind: number): number {
    const c = this.climate;
    return this.profile.wind * (c.baseWindKmh * (0.75 + 0.45 * daylight(solarHour)) * (1 + 0.3 * this.noise(16, hours / 10)) + 24 * frontWind);
  }

  /**
   * Instantaneous speed over the mean: two fast wobbles (about 8 s and 2.5 s) and, now and then, a gust
   * of a few seconds that lifts the wind by up to half again, as a gust front does. Local to the station.
   */
  private gustFactor(epochMs: number): number {
    const seconds = epochMs / 1000;
    const wobble = this.localNoise(17, seconds / 8) + 0.5 * this.localNoise(18, seconds / 2.5);
    const burst = Math.max(0, this.localNoise(25, seconds / 6) - 0.4) * 1.25;
    return Math.max(0, 1 + this.climate.gustiness * wobble + burst);
  }

  /** The fronts that pass between two instants, in time order. */
  frontsBetween(startMs: number, endMs: number): Front[] {
    const fronts: Front[] = [];
    const first = Math.floor(startMs / HOUR_MS / FRONT_SLOT_HOURS);
    const last = Math.floor(endMs / HOUR_MS / FRONT_SLOT_HOURS);
    for (let slot = first; slot <= last; slot++) {
      const front = this.front(slot);
      if (front && front.atMs >= startMs && front.atMs < endMs) fronts.push(front);
    }
    return fronts;
  }

  private front(slot: number): Front | undefined {
    const seed = this.regionSeed;
    if (hash01(seed, 30, slot) >= FRONT_CHANCE) return undefined;
    const atHours = (slot + 0.15 + 0.7 * hash01(seed, 31, slot)) * FRONT_SLOT_HOURS;
    return {
      atMs: atHours * HOUR_MS,
      intensity: 0.3 + 0.7 * hash01(seed, 32, slot),
      widthHours: 4 + 6 * hash01(seed, 33, slot),
    };
  }

  /** How the fronts near `hours` shape the weather; every term is local, so slots join smoothly. */
  private frontEffects(hours: number): { trough: number; cloud: number; rain: number; wind: number; veer: number; behind: number } {
    const effects = { trough: 0, cloud: 0, rain: 0, wind: 0, veer: 0, behind: 0 };
    const slot = Math.floor(hours / FRONT_SLOT_HOURS);
    for (let s = slot - FRONT_REACH_SLOTS; s <= slot + FRONT_REACH_SLOTS; s++) {
      const front = this.front(s);
      if (!front) continue;
      const x = (hours - front.atMs / HOUR_MS) / front.widthHours;
      const i = front.intensity;
      effects.trough += i * gaussian(x, 2.5);
      effects.cloud += i * gaussian(x - 0.3, 1.8);
      effects.rain += i * gaussian(x, 1);
      effects.wind += i * gaussian(x, 1.5);
      // Backs ahead of the front, veers behind it, then drifts back to the prevailing wind.
      effects.veer += 50 * i * Math.tanh(x) * gaussian(x, 3);
      effects.behind += i * gaussian(x - 2.5, 2);
    }
    effects.cloud = Math.min(1, effects.cloud);
    return effects;
  }

  /** Now and then a summer afternoon shower outside any front. */
  private stormShower(hours: number, solarHour: number): number {
    const chance = Math.max(0, this.noise(22, hours / 5) - 0.55);
    return chance * 40 * Math.max(0, seasonal(hours)) * gaussian(solarHour - 16, 2.5) * Math.max(0, this.noise(23, hours * 2));
  }

  /** The region's smooth noise in [-1, 1]: what neighbouring stations share (air masses, pressure, showers). */
  private noise(channel: number, x: number): number {
    return valueNoise(this.regionSeed, channel, x);
  }

  /** The station's own smooth noise: gusts, the vane's wobble, its street's traffic. */
  private localNoise(channel: number, x: number): number {
    return valueNoise(this.seed, channel, x);
  }
}

/**
 * Edges per second of the virtual anemometer at any instant, for a VirtualEdgeInput. `kmhPerHz` must be
 * the one the Anemometer reading it uses, or every speed comes out scaled.
 */
export function anemometerEdgeRate(weather: VirtualWeather, kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ): (atMs: number) => number {
  return (atMs) => edgeRateForKmh(weather.weatherAt(atMs).windSpeedKmh, kmhPerHz);
}

/** Bucket tips per second of the virtual rain gauge at any instant, for a VirtualEdgeInput. */
export function rainGaugeTipRate(weather: VirtualWeather): (atMs: number) => number {
  return (atMs) => tipRateForMmPerHour(weather.weatherAt(atMs).rainRateMmPerHour);
}

/** -1 at dawn, +1 mid afternoon: a quick morning rise and a long evening fall. */
function daily(solarHour: number): number {
  if (solarHour >= DAWN_HOUR && solarHour < WARMEST_HOUR) {
    return -Math.cos((Math.PI * (solarHour - DAWN_HOUR)) / (WARMEST_HOUR - DAWN_HOUR));
  }
  const sinceWarmest = mod(solarHour - WARMEST_HOUR, DAY_HOURS);
  return Math.cos((Math.PI * sinceWarmest) / (DAY_HOURS - (WARMEST_HOUR - DAWN_HOUR)));
}

/** -1 in late January, +1 in late July. */
function seasonal(hours: number): number {
  const day = hours / DAY_HOURS;
  return -Math.cos((2 * Math.PI * (day - COLDEST_DAY_OF_YEAR)) / YEAR_DAYS);
}

/** 0 at night, 1 at noon: wind picks up by day as the sun stirs the air. */
function daylight(solarHour: number): number {
  return Math.max(0, Math.sin((Math.PI * (solarHour - 6)) / 12));
}

/** Saturation vapour pressure (Magnus), hPa. */
function saturation(celsius: number): number {
  return 6.1094 * Math.exp((17.625 * celsius) / (celsius + 243.04));
}

function gaussian(x: number, width: number): number {
  return Math.exp(-((x / width) ** 2));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** Smooth value noise in [-1, 1], one lattice point per unit of `x`. */
function valueNoise(seed: number, channel: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const s = f * f * f * (f * (f * 6 - 15) + 10);
  const a = hash01(seed, channel, i);
  const b = hash01(seed, channel, i + 1);
  return 2 * (a + (b - a) * s) - 1;
}

/** FNV-1a, 32 bit: a station id becomes a seed. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** A uniform number in [0, 1) for (seed, channel, index), from a murmur3-style finaliser. */
function hash01(seed: number, channel: number, index: number): number {
  let h = seed ^ Math.imul(channel + 1, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b) ^ Math.imul(Math.floor(index / 2 ** 32), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
