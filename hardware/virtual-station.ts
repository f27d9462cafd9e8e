import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from './core/clock.ts';
import type { EdgeInput } from './edge-input.ts';
import { FULL_SCALE, MCP3427_AIR_QUALITY_ADDRESS, MCP3427_WIND_VANE_ADDRESS, VREF } from './mcp3427.ts';
import { VirtualBme280 } from './virtual-bme280.ts';
import { VirtualBmp180 } from './virtual-bmp180.ts';
import { VirtualDs18b20 } from './virtual-ds18b20.ts';
import { VirtualEdgeInput } from './virtual-edge-input.ts';
import { VirtualHtu21d } from './virtual-htu21d.ts';
import { VirtualI2cBus } from './virtual-i2c-bus.ts';
import { VirtualMcp3427 } from './virtual-mcp3427.ts';
import { anemometerEdgeRate, rainGaugeTipRate, VirtualWeather, type VirtualWeatherOptions } from './virtual-weather.ts';
import { voltageForDirection } from './wind-vane.ts';

/** How often the virtual sensors take on the weather model's values. */
const UPDATE_MS = 1000;

export type StationBuild = 'bme280' | 'weather-hat';

export interface VirtualStationOptions {
  stationId: string;
  build: StationBuild;
  clock?: Clock;
  /** The site and region the weather is modelled on. Default: an open field, a region of its own. */
  weather?: VirtualWeatherOptions;
  addresses?: { bme280?: number; htu21d?: number; bmp180?: number; windVane?: number; airQuality?: number };
  /** km/h per anemometer closure per second: the station's setting, so its speeds are the weather's. Default: the Weather HAT kit's. */
  anemometerKmhPerHz?: number;
}

/**
 * A whole station's hardware, simulated: one virtual I²C bus carrying the build's sensors at their real
 * addresses, a 1-Wire folder with a DS18B20, and the anemometer and rain gauge as edge sources, all fed
 * by one weather model seeded by the station id. The real drivers run against it unchanged.
 */
export class VirtualStation {
  readonly weather: VirtualWeather;
  readonly bus: VirtualI2cBus;
  readonly anemometerInput: EdgeInput;
  readonly rainInput: EdgeInput;
  readonly bme280?: VirtualBme280;
  readonly htu21d?: VirtualHtu21d;
  readonly bmp180?: VirtualBmp180;
  readonly windVaneAdc = new VirtualMcp3427();
  readonly airQualityAdc?: VirtualMcp3427;
  private readonly clock: Clock;
  private ground?: VirtualDs18b20;
  private root?: string;
  private timer: TimerHandle | undefined;

  constructor(private readonly options: VirtualStationOptions) {
    this.clock = options.clock ?? systemClock;
    this.weather = new VirtualWeather(options.stationId, options.weather);
    this.bus = new VirtualI2cBus({ name: 'virtual i2c-1' });
    const a = options.addresses ?? {};
    if (options.build === 'bme280') {
      this.bme280 = new VirtualBme280({ clock: this.clock });
      this.bus.attach(a.bme280 ?? 0x76, this.bme280);
    } else {
      this.htu21d = new VirtualHtu21d({ clock: this.clock });
      this.bmp180 = new VirtualBmp180({ clock: this.clock });
      this.airQualityAdc = new VirtualMcp3427();
      this.bus.attach(a.htu21d ?? 0x40, this.htu21d);
      this.bus.attach(a.bmp180 ?? 0x77, this.bmp180);
      this.bus.attach(a.airQuality ?? MCP3427_AIR_QUALITY_ADDRESS, this.airQualityAdc);
    }
    this.bus.attach(a.windVane ?? MCP3427_WIND_VANE_ADDRESS, this.windVaneAdc);
    this.anemometerInput = new VirtualEdgeInput({ name: 'virtual anemometer', rate: anemometerEdgeRate(this.weather, options.anemometerKmhPerHz), clock: this.clock });
    this.rainInput = new VirtualEdgeInput({ name: 'virtual rain gauge', rate: rainGaugeTipRate(this.weather), clock: this.clock });
  }

  /** The folder standing in for /sys/bus/w1/devices; set once started. */
  get oneWireRoot(): string {
    if (!this.root) throw new Error('virtual station not started');
    return this.root;
  }

  /** The virtual ground probe, for fault injection; set once started. */
  get groundProbe(): VirtualDs18b20 {
    if (!this.ground) throw new Error('virtual station not started');
    return this.ground;
  }

  async start(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'hedgerow-w1-'));
    this.ground = new VirtualDs18b20({
      root: this.root,
      temperature: () => this.weather.weatherAt(this.clock.now()).groundTemperature,
      clock: this.clock,
    });
    await this.ground.start();
    this.update();
    this.timer = this.clock.setInterval(() => this.update(), UPDATE_MS);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.ground?.stop();
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }

  /** Sets every sensor to the weather of now. */
  update(): void {
    const w = this.weather.weatherAt(this.clock.now());
    this.bme280?.set({ temperature: w.temperature, pressure: w.pressure, humidity: w.humidity });
    this.htu21d?.set({ temperature: w.temperature, humidity: w.humidity });
    this.bmp180?.set({ temperature: w.temperature, pressure: w.pressure });
    this.windVaneAdc.setVoltage(voltageForDirection(w.windDirectionDeg), 0);
    // The TGS2600 board's output falls as the air gets cleaner: the inverse of airQualityPercent().
    this.airQualityAdc?.setVoltage(((100 - w.airQuality) / 100) * VREF * (FULL_SCALE / (FULL_SCALE + 1)), 0);
  }
}
