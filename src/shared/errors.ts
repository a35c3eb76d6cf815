/**
 * The one error type of lora-placer. `code` is a stable machine-readable contract (like undici's
 * UND_ERR_*), `status` the HTTP status the API answers with; the CLI exits 2 for any 4xx.
 */
export const ErrorCodes = {
  invalidInput: { code: 'LP_ERR_INVALID_INPUT', status: 400 },
  unauthorized: { code: 'LP_ERR_UNAUTHORIZED', status: 401 },
  unknownProfile: { code: 'LP_ERR_UNKNOWN_PROFILE', status: 404 },
  notFound: { code: 'LP_ERR_NOT_FOUND', status: 404 },
  methodNotAllowed: { code: 'LP_ERR_METHOD_NOT_ALLOWED', status: 405 },
  requestTimeout: { code: 'LP_ERR_REQUEST_TIMEOUT', status: 408 },
  conflict: { code: 'LP_ERR_CONFLICT', status: 409 },
  bodyTooLarge: { code: 'LP_ERR_BODY_TOO_LARGE', status: 413 },
  tooMuchWork: { code: 'LP_ERR_TOO_MUCH_WORK', status: 413 },
  uriTooLong: { code: 'LP_ERR_URI_TOO_LONG', status: 414 },
  unsupportedMediaType: { code: 'LP_ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  dataFile: { code: 'LP_ERR_DATA_FILE', status: 422 },
  headersTooLarge: { code: 'LP_ERR_HEADERS_TOO_LARGE', status: 431 },
  /** nginx's 499: nobody reads the answer, but logs and metrics see the cancellation */
  clientClosed: { code: 'LP_ERR_CLIENT_CLOSED', status: 499 },
  internal: { code: 'LP_ERR_INTERNAL', status: 500 },
  /**
   * a record read from the state store is malformed (not JSON, or not the shape the service writes): that pool or
   * job only; 500, not 503, since retrying does not help; rewriting it (a PUT) or deleting it does
   */
  storeRecordInvalid: { code: 'LP_ERR_STORE_RECORD_INVALID', status: 500 },
  notReady: { code: 'LP_ERR_NOT_READY', status: 503 },
  stalePlan: { code: 'LP_ERR_STALE_PLAN', status: 503 },
  busy: { code: 'LP_ERR_BUSY', status: 503 },
  timeout: { code: 'LP_ERR_TIMEOUT', status: 503 },
  /**
   * the shared state store (Redis) cannot be reached, or answered an error (Retry-After): the command did not run,
   * except a write whose connection was lost after it was sent, which may have run (each write may be repeated)
   */
  storeUnavailable: { code: 'LP_ERR_STORE_UNAVAILABLE', status: 503 },
  /** Redis is full (maxmemory, no eviction): it refused the write, nothing was changed; reads still work */
  storeFull: { code: 'LP_ERR_STORE_FULL', status: 503 },
  /** Redis did not answer within the command timeout (Retry-After): a write may or may not have been applied */
  storeTimeout: { code: 'LP_ERR_STORE_TIMEOUT', status: 503 },
  /** the traffic source (PROMETHEUS_URL) could not be read, or answered garbage: the last plan stays */
  sourceUnavailable: { code: 'LP_ERR_SOURCE_UNAVAILABLE', status: 503 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

export interface ErrorIssue {
  path: string;
  message: string;
}

/** At most this many issues travel in an error's details: a body of 100,000 bad adapters answers briefly. */
export const maxReportedIssues = 20;

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  /** seconds a client should wait before retrying (503s of a full queue, a deadline, the store); sent as Retry-After */
  retryAfterS: number | undefined;

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

/** An AppError as plain data: what crosses a worker-thread boundary (structured clone keeps no class). */
export interface WireError {
  kind: ErrorKind;
  message: string;
  details?: unknown;
  retryAfterS?: number;
  /** for errors that were not AppErrors: the stack, logged by the receiver, never answered */
  internalStack?: string;
}

export function toWireError(err: unknown): WireError {
  if (isAppError(err)) {
    return {
      kind: errorKindOf(err),
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
      ...(err.retryAfterS ? { retryAfterS: err.retryAfterS } : {}),
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'internal', message: 'internal error', internalStack: e.stack ?? e.message };
}

export function fromWireError(wire: WireError): AppError {
  const kind = wire.kind in ErrorCodes ? wire.kind : 'internal';
  const err = new AppError(kind, wire.message, wire.details);
  if (wire.retryAfterS) err.retryAfterS = wire.retryAfterS;
  if (wire.internalStack) err.stack = wire.internalStack;
  return err;
}

/** Issues for a 400: the first `maxReportedIssues`, and how many were left out. */
export function invalidInput(what: string, issues: ErrorIssue[]): AppError {
  const first = issues[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const shown = issues.slice(0, maxReportedIssues);
  const details =
    issues.length > shown.length ? { issues: shown, omittedIssues: issues.length - shown.length } : { issues: shown };
  return new AppError('invalidInput', `invalid ${what}: ${summary}${more}`, details);
}

/**
 * A user-given string as it may appear in a message: quoted and cut to `max` characters, so a
 * 7 MB model name is not echoed back (or logged) whole.
 */
export function quoted(value: string, max = 64): string {
  const clipped = value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
  return JSON.stringify(clipped);
}
