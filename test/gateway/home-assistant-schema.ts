import { z } from 'zod';

/**
 * Home Assistant's documented MQTT sensor discovery payload, written down to check ours against:
 * - the discovery topic and payload rules: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
 *   (`<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids in [a-zA-Z0-9_-]; `origin`
 *   with a required `name`; abbreviations such as `dev_cla` allowed, full names used here);
 * - the sensor's options: https://www.home-assistant.io/integrations/sensor.mqtt/ (state_topic required;
 *   availability entries need a topic; device needs identifiers or connections and a unique_id);
 *   `default_entity_id` replaced `object_id` in Home Assistant 2025.10;
 * - device classes with their units, and state classes:
 *   https://www.home-assistant.io/integrations/sensor/#device-class and
 *   https://developers.home-assistant.io/docs/core/entity/sensor/#available-state-classes
 *   (measurement_angle, for angles in °, e.g. wind direction).
 * Home Assistant ignores unknown keys; this schema refuses them, so a misspelt key fails here
 * instead of doing nothing in someone's house.
 */

export const DISCOVERY_TOPIC = /^(?<prefix>[A-Za-z0-9_/-]+)\/(?<component>sensor)\/(?:(?<node>[a-zA-Z0-9_-]+)\/)?(?<object>[a-zA-Z0-9_-]+)\/config$/;

/** Units Home Assistant accepts per device class, for the classes a weather station uses. */
export const DEVICE_CLASS_UNITS: Record<string, readonly string[]> = {
  temperature: ['°C', '°F', 'K'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  humidity: ['%'],
  wind_speed: ['Beaufort', 'ft/s', 'km/h', 'kn', 'm/s', 'mph'],
  precipitation: ['cm', 'in', 'mm'],
  wind_direction: ['°'],
};

/** State classes Home Assistant accepts per device class (its DEVICE_CLASS_STATE_CLASSES), for the same classes. */
export const DEVICE_CLASS_STATE_CLASSES: Record<string, readonly string[]> = {
  temperature: ['measurement'],
  atmospheric_pressure: ['measurement'],
  humidity: ['measurement'],
  wind_speed: ['measurement'],
  precipitation: ['measurement', 'total', 'total_increasing'],
  wind_direction: ['measurement_angle'],
};

const STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'] as const;
const template = z.string().regex(/\{\{.*\}\}/, 'a template is a Jinja {{ ... }} expression');
const topic = z.string().min(1).refine((t) => !/[+#]/.test(t), 'a topic to subscribe to here has no wildcards');

const availability = z.strictObject({
  topic,
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  value_template: template.optional(),
});

const device = z
  .strictObject({
    configuration_url: z.string().optional(),
    connections: z.array(z.tuple([z.string(), z.string()])).optional(),
    hw_version: z.string().optional(),
    identifiers: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    model_id: z.string().optional(),
    name: z.string().optional(),
    serial_number: z.string().optional(),
    suggested_area: z.string().optional(),
    sw_version: z.string().optional(),
    via_device: z.string().optional(),
  })
  .refine((d) => d.identifiers !== undefined || d.connections !== undefined, 'a device needs identifiers or connections');

const origin = z.strictObject({ name: z.string().min(1), sw_version: z.string().optional(), support_url: z.url().optional() });

export const mqttSensorDiscovery = z
  .strictObject({
    availability: z.array(availability).min(1).optional(),
    availability_mode: z.enum(['all', 'any', 'latest']).optional(),
    availability_template: template.optional(),
    availability_topic: topic.optional(),
    default_entity_id: z.string().regex(/^sensor\.[a-z0-9_]+$/, 'sensor.<lower-case letters, digits, _>').optional(),
    device: device.optional(),
    device_class: z.string().nullable().optional(),
    enabled_by_default: z.boolean().optional(),
    encoding: z.string().optional(),
    entity_category: z.literal('diagnostic').optional(),
    entity_picture: z.string().optional(),
    expire_after: z.number().int().nonnegative().optional(),
    force_update: z.boolean().optional(),
    icon: z.string().optional(),
    json_attributes_template: template.optional(),
    json_attributes_topic: topic.optional(),
    last_reset_value_template: template.optional(),
    name: z.string().nullable().optional(),
    options: z.array(z.string()).min(1).optional(),
    origin: origin.optional(),
    payload_available: z.string().optional(),
    payload_not_available: z.string().optional(),
    platform: z.literal('sensor').optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
    state_class: z.enum(STATE_CLASSES).optional(),
    state_topic: topic,
    suggested_display_precision: z.number().int().nonnegative().optional(),
    unique_id: z.string().min(1).optional(),
    unit_of_measurement: z.string().nullable().optional(),
    value_template: template.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.availability && c.availability_topic) ctx.addIssue({ code: 'custom', message: 'availability and availability_topic must not be used together' });
    if (c.device && !c.unique_id) ctx.addIssue({ code: 'custom', message: 'device works only with a unique_id' });
    if (c.state_class === 'measurement_angle' && c.unit_of_measurement !== '°') ctx.addIssue({ code: 'custom', message: 'measurement_angle is for angles in °' });
    if (c.last_reset_value_template && c.state_class !== 'total') ctx.addIssue({ code: 'custom', message: 'last_reset_value_template needs state_class total' });
    if (c.device_class) {
      const units = DEVICE_CLASS_UNITS[c.device_class];
      if (!units) ctx.addIssue({ code: 'custom', message: `device class ${c.device_class} is not one this test knows the units of` });
      else if (!units.includes(c.unit_of_measurement ?? '')) ctx.addIssue({ code: 'custom', message: `${c.device_class} takes ${units.join(', ')}, not ${c.unit_of_measurement}` });
      const states = DEVICE_CLASS_STATE_CLASSES[c.device_class];
      if (states && c.state_class && !states.includes(c.state_class)) ctx.addIssue({ code: 'custom', message: `${c.device_class} takes state class ${states.join(', ')}, not ${c.state_class}` });
    }
  });
