import mqtt from 'mqtt';
import { describeCommand, parseVirtualWeatherCommand, VIRTUAL_WEATHER_KEYS, virtualWeatherTopic } from '../hardware/virtual-weather-command.ts';
import type { UplinkSettings } from '../gateway/settings.ts';
import { brokerClientOptions } from './virtual-weather-control.ts';

/**
 * `hedgerow demo weather --station ID --set ambient_temperature=-3`: publishes a virtual weather change
 * (hardware/virtual-weather-command.ts) to the broker the stations use, retained, so a station that
 * (re)starts later still gets it. `--clear` hands the station back to its weather model.
 */

export class DemoWeatherError extends Error {
  override readonly name = 'DemoWeatherError';
}

/** "-3" → -3 for each `key=value`; the command schema checks keys and ranges. */
export function commandFrom(sets: readonly string[], clear: boolean): Buffer {
  if (clear && sets.length > 0) throw new DemoWeatherError('give either --clear or --set, not both');
  if (!clear && sets.length === 0) throw new DemoWeatherError(`say what to change, e.g. --set ambient_temperature=-3 (keys: ${VIRTUAL_WEATHER_KEYS.join(', ')}), or --clear`);
  const body: Record<string, unknown> = {};
  for (const set of sets) {
    const match = /^([a-z_]+)=(.+)$/.exec(set.trim());
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(value)) throw new DemoWeatherError(`--set ${set}: write key=number, e.g. ambient_temperature=-3`);
    body[match[1]!] = value;
  }
  return Buffer.from(JSON.stringify(body));
}

export async function sendDemoWeather(options: { uplink: UplinkSettings; stationId: string; sets: readonly string[]; clear: boolean }): Promise<string> {
  const payload = commandFrom(options.sets, options.clear);
  const parsed = parseVirtualWeatherCommand(payload);
  if ('problem' in parsed) throw new DemoWeatherError(parsed.problem);
  const topic = virtualWeatherTopic(options.stationId);
  const client = mqtt.connect(options.uplink.url, { ...brokerClientOptions(options.uplink, `hedgerow-demo-weather-${process.pid}`), reconnectPeriod: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (error) => reject(new DemoWeatherError(`cannot reach the broker at ${options.uplink.url} (${error.message}): is hedgerow start running?`)));
      client.once('close', () => reject(new DemoWeatherError(`cannot reach the broker at ${options.uplink.url}: is hedgerow start running?`)));
    });
    await client.publishAsync(topic, payload, { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
  return `${options.stationId}: virtual weather ${describeCommand(parsed.command)} (sent to ${options.uplink.url} on ${topic})`;
}
