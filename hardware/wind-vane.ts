/**
 * The wind vane is a ring of reed switches and resistors: the magnet closes one switch, or two
 * neighbours at the in-between points, and the resistance (in a divider with 75 kΩ) tells the
 * direction. The MCP3427 reads the divider's voltage; this file turns it back into a direction.
 */

/** Divider supply, V (design.md §4). */
export const VANE_VIN = 3.268;
/** The divider's fixed resistor, Ω. */
export const VANE_SERIES_OHMS = 75_000;
/**
 * The MCP3427 tops out at 2.048 V less one 62.5 µV step. A reading at the top is saturated, which is
 * what an open circuit (vane unplugged: the pull-up wins) looks like, so it is never taken for West
 * (2.011 V), the highest direction.
 */
export const VANE_ADC_CEILING_VOLTS = 2.0475;
/** Below this share of the first gap under the lowest direction a reading is a short, not ESE. */
const HALF_GAP = 0.5;
/** A resultant shorter than this fraction of the sample count means the directions cancelled out. */
const CANCELLED = 1e-6;

/** The 16 directions and their resistances, Ω, from the vane's datasheet. */
export const VANE_RESISTORS: readonly { name: string; degrees: number; ohms: number }[] = [
  { name: 'N', degrees: 0, ohms: 33_000 },
  { name: 'NNE', degrees: 22.5, ohms: 6_570 },
  { name: 'NE', degrees: 45, ohms: 8_200 },
  { name: 'ENE', degrees: 67.5, ohms: 891 },
  { name: 'E', degrees: 90, ohms: 1_000 },
  { name: 'ESE', degrees: 112.5, ohms: 688 },
  { name: 'SE', degrees: 135, ohms: 2_200 },
  { name: 'SSE', degrees: 157.5, ohms: 1_410 },
  { name: 'S', degrees: 180, ohms: 3_900 },
  { name: 'SSW', degrees: 202.5, ohms: 3_140 },
  { name: 'SW', degrees: 225, ohms: 16_000 },
  { name: 'WSW', degrees: 247.5, ohms: 14_120 },
  { name: 'W', degrees: 270, ohms: 120_000 },
  { name: 'WNW', degrees: 292.5, ohms: 42_120 },
  { name: 'NW', degrees: 315, ohms: 64_900 },
  { name: 'NNW', degrees: 337.5, ohms: 21_880 },
];

export interface VaneDirection {
  name: string;
  degrees: number;
  ohms: number;
  /** Nominal divider voltage for this direction. */
  volts: number;
}

export interface VaneOptions {
  /** Divider supply, V (default 3.268). */
  vin?: number;
  /** Readings at or above this are saturated and dropped (default 2.0475 V, the ADC's top). */
  ceilingVolts?: number;
}

/** Divider output for vane resistance `ohms`. */
export function vaneVoltage(ohms: number, vin: number = VANE_VIN): number {
  return (vin * ohms) / (ohms + VANE_SERIES_OHMS);
}

/** The 16 directions with their voltages, sorted by voltage. */
export function vaneDirections(vin: number = VANE_VIN): VaneDirection[] {
  return VANE_RESISTORS.map((r) => ({ ...r, volts: vaneVoltage(r.ohms, vin) })).sort((a, b) => a.volts - b.volts);
}

interface Bin {
  direction: VaneDirection;
  low: number;
  high: number;
}

const binCache = new Map<string, Bin[]>();

/** Bins run halfway between neighbouring voltages; the ends go half a gap past the extremes. */
function bins(vin: number, ceiling: number): Bin[] {
  const key = `${vin}/${ceiling}`;
  const cached = binCache.get(key);
  if (cached) return cached;
  const sorted = vaneDirections(vin);
  const made = sorted.map((direction, i) => {
    const below = sorted[i - 1]?.volts ?? direction.volts - (sorted[1]!.volts - direction.volts);
    const above = sorted[i + 1]?.volts ?? direction.volts + (direction.volts - sorted[i - 1]!.volts);
    return {
      direction,
      low: direction.volts - (direction.volts - below) * HALF_GAP,
      high: Math.min(direction.volts + (above - direction.volts) * HALF_GAP, vin * 0.99, ceiling),
    };
  });
  binCache.set(key, made);
  return made;
}

/** The direction a measured voltage falls in, or null for a reading outside every bin (dropped). */
export function classifyVaneVoltage(volts: number, options: VaneOptions = {}): VaneDirection | null {
  if (!Number.isFinite(volts)) return null;
  const table = bins(options.vin ?? VANE_VIN, options.ceilingVolts ?? VANE_ADC_CEILING_VOLTS);
  return table.find((bin) => volts >= bin.low && volts < bin.high)?.direction ?? null;
}

/** The voltage the vane gives when pointing nearest to `degrees`; drives the virtual vane. */
export function voltageForDirection(degrees: number, vin: number = VANE_VIN): number {
  const sector = Math.round(normalise(degrees) / 22.5) % 16;
  const resistor = VANE_RESISTORS.find((r) => r.degrees === sector * 22.5)!;
  return vaneVoltage(resistor.ohms, vin);
}

/** Running vector sum of unit direction vectors: the mean of 350° and 10° is 0°, not 180°. */
export class DirectionSum {
  private x = 0;
  private y = 0;
  count = 0;

  add(degrees: number): void {
    const radians = (degrees * Math.PI) / 180;
    this.x += Math.cos(radians);
    this.y += Math.sin(radians);
    this.count++;
  }

  /**
   * Mean direction in [0, 360), or null with no samples or when they cancel out (say N and S in equal
   * numbers), since no direction is then more right than another.
   */
  get mean(): number | null {
    if (this.count === 0 || Math.hypot(this.x, this.y) < CANCELLED * this.count) return null;
    const degrees = (Math.atan2(this.y, this.x) * 180) / Math.PI;
    // Rounding to a millionth of a degree keeps 359.9999999999 (float dust around north) from showing.
    return normalise(Math.round(degrees * 1e6) / 1e6);
  }

  reset(): void {
    this.x = 0;
    this.y = 0;
    this.count = 0;
  }
}

/** Vector mean of directions in degrees; null for none or for directions that cancel out. */
export function vectorMeanDirection(degrees: readonly number[]): number | null {
  const sum = new DirectionSum();
  for (const d of degrees) sum.add(d);
  return sum.mean;
}

function normalise(degrees: number): number {
  const d = degrees % 360;
  return d < 0 ? d + 360 : d === 0 ? 0 : d;
}
