import { ERROR_STATUS, type EngineErrorCode } from '../engine/errors.ts';
import type { AuthFailureCode } from './sigv4.ts';

/**
 * Errors the REST layer raises itself, beside the engine's (../errors.ts): the authentication errors
 * AWS's front door returns, routing errors, and the collection exchange's own refusals. Each code has one status and one line of documentation,
 * in one place; a test checks every code the API can send is listed here.
 */

export type ApiOnlyErrorCode =
  | AuthFailureCode
  | 'AccessDeniedException'
  | 'UnknownOperationException'
  | 'NotImplementedException'
  | 'ConflictException'
  | 'PayloadTooLargeException';
export type ApiErrorCode = ApiOnlyErrorCode | EngineErrorCode;

export const API_ERROR_STATUS: Readonly<Record<ApiOnlyErrorCode, number>> = {
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  AccessDeniedException: 403,
  UnknownOperationException: 404,
  NotImplementedException: 501,
  ConflictException: 409,
  PayloadTooLargeException: 413,
};

/** What each error means for the caller and what to do next (for the README and the docs test). */
export const ERROR_DOCS: Readonly<Record<ApiErrorCode, string>> = {
  MissingAuthenticationTokenException: 'The request was not signed: sign it with SigV4 (service iotanalytics) using an access key from the cloud config.',
  IncompleteSignatureException: 'The Authorization header is malformed or lacks a part: use an AWS SDK or a SigV4 signer.',
  UnrecognizedClientException: 'The access key id is not one the server knows: check the key in your client and in the cloud config.',
  InvalidSignatureException: 'The signature is wrong (secret, scope or clock): check the secret key and that your clock is within 15 minutes.',
  AccessDeniedException: 'A dataset content link is tampered with or expired: call GetDatasetContent again for a fresh link.',
  UnknownOperationException: 'No IoT Analytics operation has this method and path: check the endpoint URL.',
  NotImplementedException: 'The operation exists in IoT Analytics but Hedgerow does not provide it; the message says why.',
  ConflictException: 'A published collection already has this version with other bytes, or a newer one: raise the manifest\'s version and publish again.',
  PayloadTooLargeException: 'The published bundle is larger than the engine takes: make the collection smaller (MP3 for long stories), then export and publish again.',
  InvalidRequestException: 'The request is malformed or names something invalid: the message names the field and what is allowed.',
  ResourceNotFoundException: 'The named channel, pipeline, datastore, dataset or version does not exist: check the name, or list what exists.',
  ResourceAlreadyExistsException: 'A resource with this name exists already: update it or pick another name.',
  LimitExceededException: 'An engine limit was reached: delete unused resources or raise the limit in the config.',
  ThrottlingException: 'Too many requests at once: retry with backoff (the AWS SDK does this by itself).',
  InternalFailureException: 'The server failed unexpectedly: retry; if it persists, give the operator the request id.',
  ServiceUnavailableException: 'The engine is starting or stopping, or its database is unavailable for the moment: retry shortly.',
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiOnlyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.status = API_ERROR_STATUS[code];
  }
}

export function statusOf(code: ApiErrorCode): number {
  return code in API_ERROR_STATUS ? API_ERROR_STATUS[code as ApiOnlyErrorCode] : ERROR_STATUS[code as EngineErrorCode];
}
