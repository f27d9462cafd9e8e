import { z } from 'zod';

/**
 * `homeAssistant:` MQTT discovery (gateway/home-assistant.ts). Off by default: a station on a school
 * network should not announce itself to a broker's other clients unless its owner asks.
 */
export const homeAssistantSettings = z
  .object({
    /** Publish Home Assistant discovery configs and the latest values to the uplink's broker. Default false. */
    enabled: z.boolean().default(false),
    /** Home Assistant's discovery prefix (its MQTT integration's "discovery prefix" option). Default homeassistant. */
    discoveryPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'use letters, digits, "-" and "_", levels separated by "/" (no wildcards), as in Home Assistant\'s MQTT options')
      .default('homeassistant'),
    /** The device's name in Home Assistant. Default "Hedgerow <station id>". */
    deviceName: z.string().min(1).max(100).optional(),
  })
  .strict();

export type HomeAssistantSettings = z.output<typeof homeAssistantSettings>;
