import type { ActivityStep, PipelineMessage } from './step.ts';

/** addAttributes, removeAttributes and selectAttributes: top-level attribute names, matched ignoring case as IoT Analytics does. */

function findKey(message: PipelineMessage, name: string): string | undefined {
  if (Object.hasOwn(message, name)) return name;
  const folded = name.toLowerCase();
  return Object.keys(message).find((k) => k.toLowerCase() === folded);
}

/** Copies each existing attribute to a new name; the originals stay (removeAttributes drops them). */
export function addAttributesStep(name: string, mapping: Record<string, string>): ActivityStep {
  const pairs = Object.entries(mapping);
  return {
    name,
    run(batch) {
      for (const message of batch) {
        for (const [from, to] of pairs) {
          const key = findKey(message, from);
          if (key === undefined) continue;
          const existing = findKey(message, to);
          if (existing !== undefined && existing !== to) delete message[existing];
          message[to] = message[key];
        }
      }
      return batch;
    },
  };
}

export function removeAttributesStep(name: string, attributes: string[]): ActivityStep {
  return {
    name,
    run(batch) {
      for (const message of batch) {
        for (const attribute of attributes) {
          const key = findKey(message, attribute);
          if (key !== undefined) delete message[key];
        }
      }
      return batch;
    },
  };
}

export function selectAttributesStep(name: string, attributes: string[]): ActivityStep {
  const keep = new Set(attributes.map((a) => a.toLowerCase()));
  return {
    name,
    run(batch) {
      return batch.map((message) => {
        const out: PipelineMessage = {};
        for (const key of Object.keys(message)) if (keep.has(key.toLowerCase())) out[key] = message[key];
        return out;
      });
    },
  };
}
