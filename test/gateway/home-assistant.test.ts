import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../bin/hedgerow-settings.ts';
import { discoveryConfigs, RAIN_TOTAL_KEY } from '../../gateway/home-assistant.ts';
import { homeAssistantSettings } from '../../gateway/home-assistant-settings.ts';
import { topics, WEATHER_FIELD_TABLE, WEATHER_FIELDS } from '../../hardware/core/contract.ts';
import { DISCOVERY_TOPIC, mqttSensorDiscovery } from './home-assistant-schema.ts';

// The discovery payloads against Home Assistant's documented schema (test/gateway/home-assistant-schema.ts).

const statusTopic = topics.status('weather', 'field-1');
const configs = (raw: Record<string, unknown> = {}) => discoveryConfigs({ settings: homeAssistantSettings.parse({ enabled: true, ...raw }), thing: 'field-1', statusTopic });

describe('Home Assistant discovery configs', () => {
  it('keep the documented MQTT sensor schema, one per weather field', () => {
    const all = configs();
    expect(all).toHaveLength(WEATHER_FIELDS.length);
    for (const { topic, payload } of all) {
      const parsed = mqttSensorDiscovery.safeParse(payload);
      expect(parsed.success, `${topic}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`).toBe(true);
      const match = DISCOVERY_TOPIC.exec(topic);
      expect(match?.groups).toMatchObject({ prefix: 'homeassistant', component: 'sensor', node: 'hedgerow_field_1' });
      // Best practice in the discovery docs: the topic's object id is the unique id's own part.
      expect(payload.unique_id).toBe(`hedgerow_field_1_${match!.groups!.object}`);
    }
  });

  it('take units and names from the weather contract, rain as a running total', () => {
    const byKey = new Map(configs().map(({ topic, payload }) => [DISCOVERY_TOPIC.exec(topic)!.groups!.object!, payload]));
    for (const field of WEATHER_FIELDS.filter((f) => f !== 'rainfall')) {
      expect(byKey.get(field)).toMatchObject({ unit_of_measurement: WEATHER_FIELD_TABLE[field].symbol, name: WEATHER_FIELD_TABLE[field].label });
      expect(byKey.get(field)!.value_template).toContain(`value_json.${field}`);
    }
    expect(byKey.get(RAIN_TOTAL_KEY)).toMatchObject({ device_class: 'precipitation', state_class: 'total_increasing', unit_of_measurement: 'mm' });
    expect(byKey.get('wind_direction')).toMatchObject({ device_class: 'wind_direction', state_class: 'measurement_angle', unit_of_measurement: '°' });
    expect(byKey.get('air_quality')).not.toHaveProperty('device_class');
    expect(byKey.get('humidity')).toMatchObject({ device_class: 'humidity', unit_of_measurement: '%' });
  });

  it('share one device and the station status as availability', () => {
    const all = configs({ deviceName: 'Top field' });
    for (const { payload } of all) {
      expect(payload.device).toEqual(all[0]!.payload.device);
      expect(payload.device).toMatchObject({ identifiers: ['hedgerow_field_1'], name: 'Top field', manufacturer: 'Hedgerow' });
      expect(payload.availability).toEqual([{ topic: statusTopic, value_template: expect.stringContaining("value_json.state == 'online'") }]);
      expect(payload.state_topic).toBe('dt/weather/field-1/latest');
    }
  });

  it('are off unless the config file turns them on (homeAssistant: in the one settings file)', () => {
    expect(loadSettings(undefined).homeAssistant).toEqual({ enabled: false, discoveryPrefix: 'homeassistant' });
    expect(loadSettings(undefined, { homeAssistant: { enabled: true, deviceName: 'Top field' } }).homeAssistant).toMatchObject({ enabled: true, deviceName: 'Top field' });
    expect(() => loadSettings(undefined, { homeAssistant: { enable: true } })).toThrow(/enable/);
  });

  it('go under another discovery prefix when told, and refuse one with wildcards', () => {
    expect(configs({ discoveryPrefix: 'ha/discovery' })[0]!.topic).toMatch(/^ha\/discovery\/sensor\/hedgerow_field_1\//);
    const bad = homeAssistantSettings.safeParse({ discoveryPrefix: 'home/#' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toMatch(/no wildcards/);
  });

  it('the schema refuses what Home Assistant would not take (so it can fail)', () => {
    const good = configs()[0]!.payload;
    const problems = [
      { ...good, unit_of_measurement: 'C' },
      { ...good, state_class: 'average' },
      { ...good, stat_topic: 'x' },
      { ...good, device: { name: 'no ids' } },
      { ...good, state_topic: undefined },
      { ...good, device_class: 'wind_direction', unit_of_measurement: '°', state_class: 'measurement' },
    ];
    for (const payload of problems) expect(mqttSensorDiscovery.safeParse(payload).success, JSON.stringify(payload)).toBe(false);
  });
});
