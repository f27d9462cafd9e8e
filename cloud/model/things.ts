import { z } from 'zod';
import { THING_NAME } from '../../hardware/core/contract.ts';

/**
 * Ours beside IoT Analytics: IoT Core's thing registry entry and shadow document, as deviceRegistryEnrich
 * and deviceShadowEnrich read them. One definition for the REST layer (routes-things.ts), the engine
 * (thing-registry.ts), resource files and engine.ts's types.
 */

/**
 * Narrower than IoT Core's ThingName (1-128 of [a-zA-Z0-9:_-]): a thing name is also the topic level
 * `dt/<app>/<thing>/...` of the device contract (hardware/core/contract.ts), which allows 1-64 without ":".
 */
export const thingName = z.string({ error: 'thingName must be a string' }).regex(THING_NAME, 'thingName must be 1-64 letters, digits, "-" or "_" (the device contract\'s thing names)');
export const thingTypeName = z.string().min(1).max(128).regex(/^[a-zA-Z0-9:_-]+$/, 'thingTypeName may contain only letters, digits, ":", "_" and "-"');
export const thingAttributes = z.record(
  z.string().min(1).max(128).regex(/^[a-zA-Z0-9_.,@/:#-]+$/, 'attribute names use letters, digits and _.,@/:#-'),
  z.string().max(800),
);

/** IoT Core's registry entry, as deviceRegistryEnrich writes it into a message. */
export const thing = z.strictObject({ thingName, thingTypeName: thingTypeName.optional(), attributes: thingAttributes.optional() });
export const thingByName = z.strictObject({ thingName });

/** The shadow document deviceShadowEnrich writes into a message (state.reported from status messages). */
export const thingShadow = z.strictObject({
  state: z.strictObject({ reported: z.record(z.string(), z.unknown()).optional(), desired: z.record(z.string(), z.unknown()).optional() }),
  version: z.number().int(),
  /** Epoch seconds, as in IoT Core's shadow documents. */
  timestamp: z.number(),
});
