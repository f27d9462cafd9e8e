import type {
  CreateTopicRuleRequest, GetTopicRuleResponse, IotAnalyticsAction, ListRequest, ListTopicRulesResponse, ReplaceTopicRuleRequest,
  TopicRulePayload,
} from '../engine/engine.ts';
import { arnOf, type EngineContext } from '../engine/engine-context.ts';
import { InvalidRequestException, ResourceAlreadyExistsException, ResourceNotFoundException } from '../engine/errors.ts';
import { checkResourceName } from '../engine/names.ts';
import { page } from '../engine/pagination.ts';
import { listRequest as listRequestSchema } from '../model/common.ts';
import { createTopicRuleRequest, replaceTopicRuleRequest } from '../model/topic-rules.ts';
import { parseRequest } from '../engine/request-parse.ts';
import { parseRuleSql, type ParsedRuleSql } from './topic-rule.ts';

/** The stored topic rules (IoT Core's CreateTopicRule shapes) and their compiled form for the subscriber. */

export interface CompiledRule extends ParsedRuleSql {
  name: string;
  actions: IotAnalyticsAction[];
}

// The request schemas are the model's (cloud/model/topic-rules.ts), as the REST layer decodes them.
const createSchema = createTopicRuleRequest;
const replaceSchema = replaceTopicRuleRequest;

export interface RuleDefinition {
  payload: TopicRulePayload;
}

export class TopicRules {
  private compiled = new Map<string, CompiledRule>();
  /** Told whenever the set of rules changes, so the subscriber follows. */
  onChange: () => void = () => undefined;

  constructor(private readonly ctx: EngineContext) {}

  arn(ruleName: string): string {
    return arnOf(this.ctx.settings, 'rule', ruleName);
  }

  active(): CompiledRule[] {
    return [...this.compiled.values()];
  }

  async load(): Promise<void> {
    const compiled = new Map<string, CompiledRule>();
    for (const record of await this.ctx.store.listResources<RuleDefinition>('rule')) {
      try {
        const rule = this.compile(record.name, record.definition.payload);
        if (rule) compiled.set(record.name.toLowerCase(), rule);
      } catch (error) {
        this.ctx.log.error({ rule: record.name, err: error }, 'topic rule does not compile; it is skipped until replaced');
      }
    }
    this.compiled = compiled;
    this.onChange();
  }

  private compile(ruleName: string, payload: TopicRulePayload): CompiledRule | undefined {
    const sql = parseRuleSql(payload.sql);
    if (payload.ruleDisabled) return undefined;
    return { name: ruleName, ...sql, actions: payload.actions.map((a) => a.iotAnalytics!) };
  }

  private async checkChannels(payload: TopicRulePayload, operation: string): Promise<void> {
    for (const action of payload.actions) {
      const channel = action.iotAnalytics!.channelName;
      if (!(await this.ctx.store.getResource('channel', channel))) {
        throw new InvalidRequestException(`${operation}: channel "${channel}" does not exist; create it before the rule.`);
      }
    }
  }

  async create(input: CreateTopicRuleRequest): Promise<void> {
    const request = parseRequest(createSchema, input, 'CreateTopicRule');
    const payload = request.topicRulePayload as TopicRulePayload;
    const rule = this.compile(request.ruleName, payload);
    await this.checkChannels(payload, 'CreateTopicRule');
    const now = this.ctx.clock.now();
    const definition: RuleDefinition = { payload };
    if (!(await this.ctx.store.insertResource({ type: 'rule', name: request.ruleName, definition, createdAt: now, updatedAt: now }))) {
      throw new ResourceAlreadyExistsException(`Topic rule "${request.ruleName}" already exists.`, request.ruleName, this.arn(request.ruleName));
    }
    if (request.tags) await this.ctx.store.setTags(this.arn(request.ruleName), request.tags);
    if (rule) this.compiled.set(request.ruleName.toLowerCase(), rule);
    this.onChange();
  }

  async replace(input: ReplaceTopicRuleRequest): Promise<void> {
    const request = parseRequest(replaceSchema, input, 'ReplaceTopicRule');
    const existing = await this.get(request.ruleName);
    const payload = request.topicRulePayload as TopicRulePayload;
    const rule = this.compile(existing.name, payload);
    await this.checkChannels(payload, 'ReplaceTopicRule');
    await this.ctx.store.updateResource('rule', existing.name, { payload } satisfies RuleDefinition, this.ctx.clock.now());
    if (rule) this.compiled.set(existing.name.toLowerCase(), rule);
    else this.compiled.delete(existing.name.toLowerCase());
    this.onChange();
  }

  private async get(ruleName: string) {
    const record = await this.ctx.store.getResource<RuleDefinition>('rule', checkResourceName('rule', ruleName));
    if (!record) throw new ResourceNotFoundException(`Topic rule "${ruleName}" does not exist.`);
    return record;
  }

  async describe(input: { ruleName: string }): Promise<GetTopicRuleResponse> {
    const record = await this.get(input?.ruleName);
    const p = record.definition.payload;
    return {
      ruleArn: this.arn(record.name),
      rule: {
        ruleName: record.name,
        sql: p.sql,
        ...(p.description === undefined ? {} : { description: p.description }),
        createdAt: new Date(record.createdAt),
        actions: p.actions,
        ruleDisabled: p.ruleDisabled ?? false,
        awsIotSqlVersion: p.awsIotSqlVersion ?? '2016-03-23',
      },
    };
  }

  async delete(input: { ruleName: string }): Promise<void> {
    const record = await this.get(input?.ruleName);
    await this.ctx.store.deleteResource('rule', record.name);
    await this.ctx.store.deleteAllTags(this.arn(record.name));
    this.compiled.delete(record.name.toLowerCase());
    this.onChange();
  }

  async list(input: ListRequest): Promise<ListTopicRulesResponse> {
    const request = parseRequest(listRequestSchema, input ?? {}, 'ListTopicRules');
    const result = await page((after, limit) => this.ctx.store.listResources<RuleDefinition>('rule', { after, limit }), (r) => r.name, request);
    return {
      rules: result.items.map((record) => ({
        ruleArn: this.arn(record.name),
        ruleName: record.name,
        topicPattern: parseRuleSql(record.definition.payload.sql).topicFilter,
        createdAt: new Date(record.createdAt),
        ruleDisabled: record.definition.payload.ruleDisabled ?? false,
      })),
      ...(result.nextToken ? { nextToken: result.nextToken } : {}),
    };
  }
}
