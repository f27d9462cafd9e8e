import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { BrokerExtension } from '../../gateway/broker.ts';
import { brokerSettings, uplinkSettings } from '../../gateway/settings.ts';
import { VirtualStation } from '../../hardware/virtual-station.ts';
import { Htu21d } from '../../hardware/htu21d.ts';
import { parseVirtualWeatherCommand } from '../../hardware/virtual-weather-command.ts';
import { VirtualWeatherControl } from '../../bin/virtual-weather-control.ts';
import { commandFrom } from '../../bin/demo-weather.ts';
import { captureLog } from '../fixtures/captured-log.ts';

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('virtual weather command', () => {
  it('maps record fields to the model and refuses unknown keys, out-of-range values and non-JSON with a reason', () => {
    expect(parseVirtualWeatherCommand('{"ambient_temperature": -3, "ground_temperature": -1, "rain_rate": 4}')).toMatchObject({
      override: { temperature: -3, groundTemperature: -1, rainRateMmPerHour: 4 },
    });
    expect(parseVirtualWeatherCommand('{}')).toMatchObject({ override: {} });
    expect(parseVirtualWeatherCommand('{"ambient_temprature": -3}')).toEqual({ problem: expect.stringMatching(/unknown key ambient_temprature: use ambient_temperature, /) });
    expect(parseVirtualWeatherCommand('{"humidity": 140}')).toEqual({ problem: expect.stringMatching(/^humidity above 100 %RH/) });
    expect(parseVirtualWeatherCommand('{"ambient_temperature": "cold"}')).toEqual({ problem: 'ambient_temperature is a number in °C' });
    expect(parseVirtualWeatherCommand('frost please')).toEqual({ problem: expect.stringMatching(/not JSON/) });
  });

  it('`demo weather --set` builds the JSON, and says how when the pair is malformed', () => {
    expect(JSON.parse(commandFrom(['ambient_temperature=-3', 'wind_speed=40'], false).toString())).toEqual({ ambient_temperature: -3, wind_speed: 40 });
    expect(commandFrom([], true).toString()).toBe('{}');
    expect(() => commandFrom(['ambient_temperature'], false)).toThrow(/write key=number/);
    expect(() => commandFrom([], false)).toThrow(/--set ambient_temperature=-3/);
  });
});

describe('VirtualWeatherControl over a real broker', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('puts a command into the station\'s model, so the real HTU21D driver reads it from the virtual registers; {} clears; bad ones are refused', { timeout: 60_000 }, async () => {
    const broker = new BrokerExtension(brokerSettings.parse({ port: 0 }), pino({ level: 'silent' }));
    await broker.start();
    cleanup.push(() => broker.stop());
    const station = new VirtualStation({ stationId: 'hilltop', build: 'weather-hat', weather: { site: 'hilltop', region: 'hedgerow-demo' } });
    await station.start();
    cleanup.push(() => station.stop());
    const captured = captureLog('debug');
    const uplink = uplinkSettings.parse({ url: `mqtt://127.0.0.1:${broker.port}` });
    const control = new VirtualWeatherControl({ stationId: 'hilltop', uplink, weather: () => station.weather, log: captured.log });
    await control.start();
    cleanup.push(() => control.stop());
    await until(() => captured.text().includes('listening on cmd/weather/hilltop/virtual-weather'), 'the subscription');

    const sender = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
    cleanup.push(() => sender.endAsync());
    const htu21d = new Htu21d({ bus: station.bus });
    await htu21d.open();
    const before = (await htu21d.read()).temperature;
    expect(before).toBeGreaterThan(-2);

    await sender.publishAsync('cmd/weather/hilltop/virtual-weather', '{"ambient_temperature": -3, "ground_temperature": -1}', { qos: 1 });
    // The virtual registers take the model's values once a second.
    await until(async () => Math.abs((await htu21d.read()).temperature - -3) < 0.05, 'the HTU21D to read -3 °C');
    expect(captured.text()).toMatch(/virtual weather for hilltop: ambient_temperature -3, ground_temperature -1/);

    await sender.publishAsync('cmd/weather/hilltop/virtual-weather', '{"ambient_temperature": "cold"}', { qos: 1 });
    await until(() => captured.problems().length > 0, 'the refusal');
    expect(captured.problems()).toEqual(['refused a virtual weather change on cmd/weather/hilltop/virtual-weather: ambient_temperature is a number in °C']);
    expect(station.weather.overridden).toEqual({ temperature: -3, groundTemperature: -1 });

    await sender.publishAsync('cmd/weather/hilltop/virtual-weather', '{}', { qos: 1 });
    await until(async () => Math.abs((await htu21d.read()).temperature - before) < 1, 'the model again');
    expect(station.weather.overridden).toEqual({});
  });

  it('does nothing on real hardware (no model)', async () => {
    const control = new VirtualWeatherControl({ stationId: 'x', uplink: uplinkSettings.parse({ url: 'mqtt://127.0.0.1:1' }), weather: () => undefined, log: pino({ level: 'silent' }) });
    await control.start();
    await control.stop();
  });
});
