import { z } from 'zod';
import { operation, queryList, queryString, type Operation } from './operations.ts';
import { putLoggingOptionsRequest, tagResourceRequest, untagResourceRequest } from '../model/account.ts';
import { resourceArn } from '../model/common.ts';

/** Tags (by resourceArn in the query) and account logging options (service-2.json paths and statuses). */

const arnQuery = z.object({ resourceArn: queryString(resourceArn) });

export const accountOperations: Operation[] = [
  operation({
    name: 'TagResource',
    method: 'POST',
    path: '/tags',
    status: 204,
    query: arnQuery,
    body: tagResourceRequest.omit({ resourceArn: true }),
    run: (input, { engine }) => engine.tagResource(input),
  }),
  operation({
    name: 'UntagResource',
    method: 'DELETE',
    path: '/tags',
    status: 204,
    query: arnQuery.extend({ tagKeys: queryList(z.string()).pipe(untagResourceRequest.shape.tagKeys) }),
    run: (input, { engine }) => engine.untagResource(input),
  }),
  operation({
    name: 'ListTagsForResource',
    method: 'GET',
    path: '/tags',
    query: arnQuery,
    run: (input, { engine }) => engine.listTagsForResource(input),
  }),
  operation({
    name: 'DescribeLoggingOptions',
    method: 'GET',
    path: '/logging',
    run: (_input, { engine }) => engine.describeLoggingOptions(),
  }),
  operation({
    name: 'PutLoggingOptions',
    method: 'PUT',
    path: '/logging',
    body: putLoggingOptionsRequest,
    run: (input, { engine }) => engine.putLoggingOptions(input),
  }),
];
