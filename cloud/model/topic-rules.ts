import { z } from 'zod';
import { arn, channelName, nextToken, resourceName, tagList, timestamp } from './common.ts';

/**
 * Ours beside IoT Analytics: IoT Core's topic-rule shapes (service iot 2015-05-28), with only the
 * iotAnalytics action. One definition for the REST layer (routes-rules.ts), the engine
 * (topic-rules.ts), resource files and engine.ts's types.
 */

export const MAX_RULE_ACTIONS = 10;

/**
 * IoT Core's RuleName is 1-128 of [a-zA-Z0-9_]; like the engine's other names (and its get/delete
 * checks) it may not start with "__" here.
 */
export const ruleName = resourceName('ruleName');

/** true for batchMode: each record of an envelope (or element of an array payload) becomes its own message. */
export const iotAnalyticsAction = z.strictObject({ channelName, batchMode: z.boolean().optional(), roleArn: z.string().max(2048).optional() });
const ruleAction = z
  .strictObject({ iotAnalytics: iotAnalyticsAction.optional() })
  .refine((a) => a.iotAnalytics !== undefined, { message: 'only the iotAnalytics action is available here' });

/** `SELECT * FROM 'dt/weather/+/reading'`, optionally with `WHERE <filter expression>` (cloud/ingest/topic-rule.ts parses it). */
export const topicRulePayload = z.strictObject({
  sql: z.string().min(1, 'sql must not be empty').max(4096, 'sql must be at most 4096 characters'),
  description: z.string().max(2048).optional(),
  ruleDisabled: z.boolean().optional(),
  awsIotSqlVersion: z.string().max(32).optional(),
  actions: z.array(ruleAction).min(1, 'give one iotAnalytics action').max(MAX_RULE_ACTIONS),
});

export const createTopicRuleRequest = z.strictObject({ ruleName, topicRulePayload, tags: tagList.optional() });
export const replaceTopicRuleRequest = z.strictObject({ ruleName, topicRulePayload });
export const topicRuleByName = z.strictObject({ ruleName });

export const topicRule = z.strictObject({
  ruleName: ruleName.optional(),
  sql: z.string().optional(),
  description: z.string().optional(),
  createdAt: timestamp.optional(),
  actions: z.array(z.strictObject({ iotAnalytics: iotAnalyticsAction.optional() })).optional(),
  ruleDisabled: z.boolean().optional(),
  awsIotSqlVersion: z.string().optional(),
});
export const getTopicRuleResponse = z.strictObject({ ruleArn: arn.optional(), rule: topicRule.optional() });
export const topicRuleListItem = z.strictObject({
  ruleArn: arn.optional(),
  ruleName: ruleName.optional(),
  topicPattern: z.string().optional(),
  createdAt: timestamp.optional(),
  ruleDisabled: z.boolean().optional(),
});
export const listTopicRulesResponse = z.strictObject({ rules: z.array(topicRuleListItem).optional(), nextToken: nextToken.optional() });
