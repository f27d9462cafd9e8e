import { compileValue } from '../expression/evaluate.ts';
import type { ThingShadow } from '../engine.ts';
import type { ActivityStep } from './step.ts';

/** What the enrich activities read: the engine's device registry and last-known shadows. */
export interface ThingDirectory {
  registryEntry(thingName: string): Record<string, unknown> | undefined;
  shadow(thingName: string): ThingShadow | undefined;
}

/**
 * deviceRegistryEnrich and deviceShadowEnrich. `thingName` is an expression, usually the attribute
 * that holds the device id; a message whose thing is unknown passes on unchanged.
 */
export function enrichStep(
  name: string,
  kind: 'registry' | 'shadow',
  spec: { attribute: string; thingName: string },
  things: ThingDirectory,
): ActivityStep {
  const thingOf = compileValue(spec.thingName, `${kind === 'registry' ? 'deviceRegistryEnrich' : 'deviceShadowEnrich'} activity "${name}"`);
  return {
    name,
    run(batch) {
      for (const message of batch) {
        const thing = thingOf(message);
        if (typeof thing !== 'string') continue;
        const value = kind === 'registry' ? things.registryEntry(thing) : things.shadow(thing);
        if (value !== undefined) message[spec.attribute] = structuredClone(value);
      }
      return batch;
    },
  };
}
