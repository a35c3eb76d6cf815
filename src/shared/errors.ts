/**
 * The one error type of lora-placer. `code` is a stable machine-readable contract (like undici's
 * UND_ERR_*), `status` the HTTP status the API answers with; the CLI exits 2 for any 4xx.
 */
export const ErrorCodes = {
  invalidInput: { code: 'LP_ERR_INVALID_INPUT', status: 400 },
  unauthorized: { code: 'LP_ERR_UNAUTHORIZED', status: 401 },
  unknownProfile: { code: 'LP_ERR_UNKNOWN_PROFILE', status: 404 },
  notFound: { code: 'LP_ERR_NOT_FOUND', status: 404 },
  bodyTooLarge: { code: 'LP_ERR_BODY_TOO_LARGE', status: 413 },
  dataFile: { code: 'LP_ERR_DATA_FILE', status: 422 },
  conflict: { code: 'LP_ERR_CONFLICT', status: 409 },
  unsupportedMediaType: { code: 'LP_ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  notReady: { code: 'LP_ERR_NOT_READY', status: 503 },
  stalePlan: { code: 'LP_ERR_STALE_PLAN', status: 503 },
  internal: { code: 'LP_ERR_INTERNAL', status: 500 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

export interface ErrorIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(kind: ErrorKind, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = ErrorCodes[kind].code;
    this.status = ErrorCodes[kind].status;
    this.details = details;
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** The ErrorCodes key of an AppError (to re-raise it with another message). */
export function errorKindOf(err: AppError): ErrorKind {
  return (Object.keys(ErrorCodes) as ErrorKind[]).find((k) => ErrorCodes[k].code === err.code) ?? 'internal';
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
