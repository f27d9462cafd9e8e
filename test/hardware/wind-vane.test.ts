import { describe, expect, it } from 'vitest';
import {
  classifyVaneVoltage,
  VANE_RESISTORS,
  vaneDirections,
  vectorMeanDirection,
  voltageForDirection,
} from '../../hardware/wind-vane.ts';

/** The divider worked out by hand: Vout = vin · R / (R + 75 kΩ), vin = 3.268 V. */
const divider = (ohms: number, vin = 3.268): number => (vin * ohms) / (ohms + 75_000);

const NAMES = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'];

describe('wind vane directions', () => {
  it('has the 16 points of the compass 22.5° apart', () => {
    expect(VANE_RESISTORS.map((r) => r.name)).toEqual(NAMES);
    expect(VANE_RESISTORS.map((r) => r.degrees)).toEqual(NAMES.map((_, i) => i * 22.5));
  });

  it.each(VANE_RESISTORS.map((r) => [r.name, r.degrees, r.ohms] as const))(
    '%s (%d°, %d Ω) round-trips from its divider voltage',
    (name, degrees, ohms) => {
      const volts = divider(ohms);
      expect(classifyVaneVoltage(volts)).toMatchObject({ name, degrees });
      expect(voltageForDirection(degrees)).toBeCloseTo(volts, 12);
      // 1 % resistor tolerance still lands in the same bin.
      expect(classifyVaneVoltage(divider(ohms * 1.01))?.name).toBe(name);
      expect(classifyVaneVoltage(divider(ohms * 0.99))?.name).toBe(name);
    },
  );

  it('puts bin edges halfway between neighbouring voltages', () => {
    const sorted = vaneDirections();
    for (let i = 0; i + 1 < sorted.length; i++) {
      const lower = sorted[i]!;
      const upper = sorted[i + 1]!;
      const middle = (lower.volts + upper.volts) / 2;
      expect(classifyVaneVoltage(middle - 1e-6)?.name).toBe(lower.name);
      expect(classifyVaneVoltage(middle + 1e-6)?.name).toBe(upper.name);
    }
  });

  it('drops readings outside the table: a short, a saturated ADC, the supply rail, NaN', () => {
    expect(classifyVaneVoltage(0)).toBeNull();
    expect(classifyVaneVoltage(0.02)).toBeNull();
    expect(classifyVaneVoltage(2.0479)).toBeNull();
    expect(classifyVaneVoltage(3.268)).toBeNull();
    expect(classifyVaneVoltage(Number.NaN)).toBeNull();
    // With a higher ceiling (another ADC), the end bin reaches half a gap past West and no further.
    const w = divider(120_000);
    const nw = divider(64_900);
    expect(classifyVaneVoltage(w + (w - nw) * 0.49, { ceilingVolts: 5 })?.name).toBe('W');
    expect(classifyVaneVoltage(w + (w - nw) * 0.51, { ceilingVolts: 5 })).toBeNull();
  });

  it('follows a different supply voltage', () => {
    expect(classifyVaneVoltage(divider(3_900, 3.3), { vin: 3.3 })?.name).toBe('S');
    expect(voltageForDirection(180, 3.3)).toBeCloseTo(divider(3_900, 3.3), 12);
  });

  it('maps any angle to the nearest of the 16 for the virtual vane', () => {
    expect(voltageForDirection(359)).toBe(voltageForDirection(0));
    expect(voltageForDirection(-90)).toBe(voltageForDirection(270));
    expect(voltageForDirection(30)).toBe(voltageForDirection(22.5));
    expect(voltageForDirection(725)).toBe(voltageForDirection(0));
  });
});

describe('vectorMeanDirection', () => {
  it('averages across north: 350° and 10° give 0°, not 180°', () => {
    expect(vectorMeanDirection([350, 10])).toBe(0);
    expect(vectorMeanDirection([340, 350, 0, 10, 20])).toBe(0);
  });

  it('averages ordinary directions', () => {
    expect(vectorMeanDirection([90, 180])).toBeCloseTo(135, 9);
    // Two unit vectors west and one north-west: x = cos 315°, y = −2 − sin 45°.
    const expected = 270 + (Math.atan(Math.SQRT1_2 / (2 + Math.SQRT1_2)) * 180) / Math.PI;
    expect(vectorMeanDirection([270, 270, 315])).toBeCloseTo(expected, 6);
    expect(vectorMeanDirection([-10])).toBeCloseTo(350, 9);
  });

  it('gives null for no samples and for directions that cancel out', () => {
    expect(vectorMeanDirection([])).toBeNull();
    expect(vectorMeanDirection([0, 180])).toBeNull();
    expect(vectorMeanDirection([0, 90, 180, 270])).toBeNull();
  });
});
