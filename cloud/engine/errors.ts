/**
 * The engine's error model, taken 1:1 from IoT Analytics 2017-11-27: each class carries the AWS error
 * type name as `code` (the REST layer sends it as `x-amzn-ErrorType`) and the HTTP status AWS used.
 * Messages are user-facing and say what to do next.
 */

export type EngineErrorCode =
  | 'InvalidRequestException'
  | 'ResourceNotFoundException'
  | 'ResourceAlreadyExistsException'
  | 'LimitExceededException'
  | 'ThrottlingException'
  | 'InternalFailureException'
  | 'ServiceUnavailableException';

/** The status AWS returns for each error type. */
export const ERROR_STATUS: Readonly<Record<EngineErrorCode, number>> = {
  InvalidRequestException: 400,
  ResourceNotFoundException: 404,
  ResourceAlreadyExistsException: 409,
  LimitExceededException: 410,
  ThrottlingException: 429,
  InternalFailureException: 500,
  ServiceUnavailableException: 503,
};

/** Whether AWS classes the error as the caller's fault or the service's (the SDK's `$fault`). */
export const ERROR_FAULT: Readonly<Record<EngineErrorCode, 'client' | 'server'>> = {
  InvalidRequestException: 'client',
  ResourceNotFoundException: 'client',
  ResourceAlreadyExistsException: 'client',
  LimitExceededException: 'client',
  ThrottlingException: 'client',
  InternalFailureException: 'server',
  ServiceUnavailableException: 'server',
};

export abstract class EngineError extends Error {
  abstract readonly code: EngineErrorCode;
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  /** The JSON body AWS sends with the error (the SDK reads `message`). */
  toJSON(): Record<string, unknown> {
    return { message: this.message };
  }
}

export class InvalidRequestException extends EngineError {
  readonly code = 'InvalidRequestException' as const;
  override readonly name = 'InvalidRequestException';
}

export class ResourceNotFoundException extends EngineError {
  readonly code = 'ResourceNotFoundException' as const;
  override readonly name = 'ResourceNotFoundException';
}

export class ResourceAlreadyExistsException extends EngineError {
  readonly code = 'ResourceAlreadyExistsException' as const;
  override readonly name = 'ResourceAlreadyExistsException';
  constructor(
    message: string,
    readonly resourceId?: string,
    readonly resourceArn?: string,
  ) {
    super(message);
  }
  override toJSON(): Record<string, unknown> {
    return { message: this.message, resourceId: this.resourceId, resourceArn: this.resourceArn };
  }
}

export class LimitExceededException extends EngineError {
  readonly code = 'LimitExceededException' as const;
  override readonly name = 'LimitExceededException';
}

export class ThrottlingException extends EngineError {
  readonly code = 'ThrottlingException' as const;
  override readonly name = 'ThrottlingException';
}

export class InternalFailureException extends EngineError {
  readonly code = 'InternalFailureException' as const;
  override readonly name = 'InternalFailureException';
}

export class ServiceUnavailableException extends EngineError {
  readonly code = 'ServiceUnavailableException' as const;
  override readonly name = 'ServiceUnavailableException';
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}

/** Turns anything thrown into an EngineError; unknown errors become a 500 that leaks no internals. */
export function toEngineError(error: unknown): EngineError {
  if (isEngineError(error)) return error;
  return new InternalFailureException('The engine failed unexpectedly; retry, and check the engine log if it persists.');
}
