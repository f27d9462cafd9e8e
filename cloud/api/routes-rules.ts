import { z } from 'zod';
import { maxResults, tagList } from '../model/common.ts';
import { createTopicRuleRequest, topicRuleByName, topicRulePayload } from '../model/topic-rules.ts';
import { operation, parseWith, queryInt, queryString, type Operation } from './operations.ts';
import { parseQuery } from './wire.ts';

/**
 * IoT Core's topic rules (service `iot` 2015-05-28, signing name iot), the ones that feed channels: only
 * the `iotAnalytics` action exists here, any other action is refused by name. Paths as IoT Core's API,
 * so `hedgerow cloud apply` and an IoT client pointed at this endpoint both manage them.
 */

export const IOT_SIGNING_NAME = 'iot';

const byName = topicRuleByName;

/** A `rules` entry in a resource file (cloud/api/apply.ts): CreateTopicRule's name, payload and tags. */
export const topicRuleEntry = createTopicRuleRequest;

/** IoT takes rule tags in an `x-amz-tagging` header, URL-encoded: `k1=v1&k2=v2`. */
function taggingHeader(headers: Record<string, string | string[] | undefined>): { tags?: Array<{ key: string; value: string }> } {
  const raw = headers['x-amz-tagging'];
  if (typeof raw !== 'string' || raw === '') return {};
  const tags = Object.entries(parseQuery(raw)).map(([key, value]) => ({ key, value: Array.isArray(value) ? value.join(',') : value }));
  return { tags: parseWith(tagList, tags, 'x-amz-tagging header') };
}

export const ruleOperations: Operation[] = [
  operation({
    name: 'CreateTopicRule',
    method: 'POST',
    path: '/rules/:ruleName',
    service: IOT_SIGNING_NAME,
    params: byName,
    body: topicRulePayload,
    headers: taggingHeader,
    run: async ({ ruleName, tags, ...topicRulePayload }, { engine }) => {
      await engine.createTopicRule({ ruleName, topicRulePayload, tags });
      return {};
    },
  }),
  operation({
    name: 'GetTopicRule',
    method: 'GET',
    path: '/rules/:ruleName',
    service: IOT_SIGNING_NAME,
    params: byName,
    run: (input, { engine }) => engine.getTopicRule(input),
  }),
  operation({
    name: 'ReplaceTopicRule',
    method: 'PATCH',
    path: '/rules/:ruleName',
    service: IOT_SIGNING_NAME,
    params: byName,
    body: topicRulePayload,
    run: async ({ ruleName, ...topicRulePayload }, { engine }) => {
      await engine.replaceTopicRule({ ruleName, topicRulePayload });
      return {};
    },
  }),
  operation({
    name: 'DeleteTopicRule',
    method: 'DELETE',
    path: '/rules/:ruleName',
    service: IOT_SIGNING_NAME,
    params: byName,
    run: async (input, { engine }) => {
      await engine.deleteTopicRule(input);
      return {};
    },
  }),
  operation({
    name: 'ListTopicRules',
    method: 'GET',
    path: '/rules',
    service: IOT_SIGNING_NAME,
    query: z.object({ nextToken: queryString(z.string().min(1).max(4096)).optional(), maxResults: queryInt(maxResults).optional() }),
    run: (input, { engine }) => engine.listTopicRules(input),
  }),
];
