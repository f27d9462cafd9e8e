import { z } from 'zod';
import type { Engine, Thing } from '../engine/engine.ts';
import { ResourceAlreadyExistsException, ResourceNotFoundException } from '../engine/errors.ts';
import { operation, type Operation } from './operations.ts';
import { thing, thingAttributes as attributes, thingByName, thingTypeName } from '../model/things.ts';
import { IOT_SIGNING_NAME } from './routes-rules.ts';

/**
 * IoT Core's thing registry calls (service iot), the part deviceRegistryEnrich reads: CreateThing,
 * DescribeThing and UpdateThing at IoT Core's paths, so `hedgerow cloud apply` can register things and
 * an IoT client pointed here works for them. Things also register themselves when they first publish.
 */

const attributePayload = z.strictObject({ attributes: attributes.optional(), merge: z.boolean().optional() });
const byName = thingByName;

/** A `things` entry in a resource file: the registry record the engine keeps. */
export const thingEntry = thing;

async function existing(engine: Engine, name: string): Promise<Thing | undefined> {
  try {
    return await engine.describeThing({ thingName: name });
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

const same = (a: Thing, b: Thing) =>
  a.thingTypeName === b.thingTypeName && JSON.stringify(Object.entries(a.attributes ?? {}).sort()) === JSON.stringify(Object.entries(b.attributes ?? {}).sort());

export const thingOperations: Operation[] = [
  operation({
    name: 'CreateThing',
    method: 'POST',
    path: '/things/:thingName',
    service: IOT_SIGNING_NAME,
    params: byName,
    body: z.strictObject({ thingTypeName: thingTypeName.optional(), attributePayload: attributePayload.optional(), billingGroupName: z.string().max(128).optional() }),
    run: async (input, { engine }) => {
      const wanted: Thing = { thingName: input.thingName, thingTypeName: input.thingTypeName, attributes: input.attributePayload?.attributes };
      const current = await existing(engine, input.thingName);
      // IoT Core: creating a thing that exists with the same settings succeeds; with other settings it conflicts.
      if (current && !same(current, wanted)) {
        throw new ResourceAlreadyExistsException(`Thing "${input.thingName}" exists with other settings; use UpdateThing to change it.`, input.thingName);
      }
      if (!current) await engine.putThing(wanted);
      return { thingName: input.thingName, thingId: input.thingName };
    },
  }),
  operation({
    name: 'DescribeThing',
    method: 'GET',
    path: '/things/:thingName',
    service: IOT_SIGNING_NAME,
    params: byName,
    run: async (input, { engine }) => {
      const thing = await engine.describeThing(input);
      return { ...thing, thingId: thing.thingName, defaultClientId: thing.thingName, attributes: thing.attributes ?? {} };
    },
  }),
  operation({
    name: 'UpdateThing',
    method: 'PATCH',
    path: '/things/:thingName',
    service: IOT_SIGNING_NAME,
    params: byName,
    body: z.strictObject({
      thingTypeName: thingTypeName.optional(),
      attributePayload: attributePayload.optional(),
      expectedVersion: z.number().int().optional(),
      removeThingType: z.boolean().optional(),
    }),
    run: async (input, { engine }) => {
      const current = await engine.describeThing({ thingName: input.thingName });
      const given = input.attributePayload?.attributes;
      // IoT Core: with merge, an empty value removes that attribute; without, the given map replaces all.
      const merged = input.attributePayload?.merge ? { ...current.attributes, ...given } : (given ?? current.attributes);
      const attributesAfter = Object.fromEntries(Object.entries(merged ?? {}).filter(([, v]) => v !== ''));
      const thingTypeAfter = input.removeThingType ? undefined : (input.thingTypeName ?? current.thingTypeName);
      await engine.putThing({ thingName: input.thingName, thingTypeName: thingTypeAfter, attributes: attributesAfter });
      return {};
    },
  }),
];
