import { THING_NAME } from '../../hardware/core/contract.ts';
import { thing } from '../model/things.ts';
import type { ThingDirectory } from './activities/enrich-activities.ts';
import type { Thing, ThingShadow } from './engine.ts';
import type { EngineContext } from './engine-context.ts';
import { ResourceNotFoundException } from './errors.ts';
import { parseRequest } from './request-parse.ts';
import type { ShadowRecord, ThingRecord } from '../storage/cloud-store.ts';

/**
 * The device registry and last-known shadows that deviceRegistryEnrich and deviceShadowEnrich read.
 * Things register themselves when they first publish (with their app as an attribute) or are put
 * explicitly; shadows hold the latest `dt/<app>/<thing>/status` payload as `state.reported`.
 * Kept in memory for the enrich activities, written through to the store.
 */

// The registry entry's schema is the model's (cloud/model/things.ts), as the REST layer decodes it.
const thingSchema = thing;

export class ThingRegistry implements ThingDirectory {
  private readonly things = new Map<string, ThingRecord>();
  private readonly shadows = new Map<string, ShadowRecord>();

  constructor(private readonly ctx: EngineContext) {}

  async load(): Promise<void> {
    this.things.clear();
    this.shadows.clear();
    for (const thing of await this.ctx.store.listThings()) this.things.set(thing.thingName, thing);
    for (const shadow of await this.ctx.store.listShadows()) this.shadows.set(shadow.thingName, shadow);
  }

  private arn(thingName: string): string {
    return `arn:aws:iot:${this.ctx.settings.region}:${this.ctx.settings.accountId}:thing/${thingName}`;
  }

  registryEntry(thingName: string): Record<string, unknown> | undefined {
    const thing = this.things.get(thingName);
    if (!thing) return undefined;
    return {
      thingName: thing.thingName,
      thingId: thing.thingName,
      thingArn: this.arn(thing.thingName),
      defaultClientId: thing.thingName,
      ...(thing.thingTypeName ? { thingTypeName: thing.thingTypeName } : {}),
      attributes: thing.attributes,
      version: thing.version,
    };
  }

  shadow(thingName: string): ThingShadow | undefined {
    const shadow = this.shadows.get(thingName);
    if (!shadow) return undefined;
    return { state: { reported: shadow.reported }, version: shadow.version, timestamp: Math.floor(shadow.updatedAt / 1000) };
  }

  async put(input: Thing): Promise<void> {
    const request = parseRequest(thingSchema, input, 'PutThing');
    const existing = this.things.get(request.thingName);
    const thing: ThingRecord = {
      thingName: request.thingName,
      ...(request.thingTypeName ? { thingTypeName: request.thingTypeName } : {}),
      attributes: request.attributes ?? {},
      version: (existing?.version ?? 0) + 1,
      createdAt: existing?.createdAt ?? this.ctx.clock.now(),
    };
    await this.ctx.store.putThing(thing);
    this.things.set(thing.thingName, thing);
  }

  async describe(input: { thingName: string }): Promise<Thing> {
    const thing = this.things.get(input?.thingName);
    if (!thing) throw new ResourceNotFoundException(`Thing "${input?.thingName}" is not registered; it registers itself when it first publishes.`);
    return { thingName: thing.thingName, ...(thing.thingTypeName ? { thingTypeName: thing.thingTypeName } : {}), attributes: thing.attributes };
  }

  async getShadow(input: { thingName: string }): Promise<ThingShadow> {
    const shadow = this.shadow(input?.thingName);
    if (!shadow) throw new ResourceNotFoundException(`Thing "${input?.thingName}" has no shadow yet; it appears with its first status message.`);
    return shadow;
  }

  /** Registers a thing the first time it publishes. */
  async seen(thingName: string, app: string): Promise<void> {
    if (this.things.has(thingName) || !THING_NAME.test(thingName)) return;
    await this.put({ thingName, attributes: app && /^[a-zA-Z0-9_-]{1,128}$/.test(app) ? { app } : {} });
  }

  /** Records a status message as the thing's reported state. */
  async report(thingName: string, app: string, reported: Record<string, unknown>): Promise<void> {
    if (!THING_NAME.test(thingName)) return;
    await this.seen(thingName, app);
    const previous = this.shadows.get(thingName);
    const shadow: ShadowRecord = { thingName, reported, version: (previous?.version ?? 0) + 1, updatedAt: this.ctx.clock.now() };
    await this.ctx.store.putShadow(shadow);
    this.shadows.set(thingName, shadow);
  }
}
