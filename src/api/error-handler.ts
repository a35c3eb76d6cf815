import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, invalidInput, isAppError, type ErrorKind } from '../shared/errors.js';

/** Fastify's own client errors, as the stable codes of the API. */
const fastifyCodes: Record<string, () => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new AppError(
      'bodyTooLarge',
      'request body is larger than the limit (BODY_LIMIT_BYTES; PREDICT_BODY_LIMIT_BYTES for /v1/predict)',
    ),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new AppError('invalidInput', 'request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new AppError('invalidInput', 'request body is empty; a JSON document is required'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new AppError('unsupportedMediaType', 'send the body as application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new AppError('invalidInput', 'content-length does not match the body'),
  FST_ERR_CTP_INVALID_TYPE: () => new AppError('unsupportedMediaType', 'send the body as application/json'),
  FST_ERR_CTP_INVALID_HEADER: () => new AppError('invalidInput', 'the content-type header is malformed'),
  FST_ERR_BAD_URL: () => new AppError('invalidInput', 'the URL is not valid (bad percent-encoding)'),
  FST_ERR_MAX_PARAM_LENGTH: () => new AppError('uriTooLong', 'a path parameter is longer than 100 characters'),
  FST_ERR_ASYNC_CONSTRAINT: () => new AppError('invalidInput', 'the request does not match a route constraint'),
};

/** Statuses Node or Fastify may give a client error, as the kinds of the API. */
const statusKinds: Record<number, ErrorKind> = {
  404: 'notFound',
  405: 'methodNotAllowed',
  408: 'requestTimeout',
  413: 'bodyTooLarge',
  414: 'uriTooLong',
  415: 'unsupportedMediaType',
  431: 'headersTooLarge',
};

/**
 * One mapping from anything thrown to `{ error: { code, message, details } }`: schema failures name
 * the offending fields, 5xx never carry internals (they are logged with the request id instead).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(toAppError(err), err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new AppError('notFound', `no route ${req.method} ${clippedPath(req.url)}`).toJSON()),
  );
}

/** Fastify's router errors (bad percent-encoding, over-long parameters) through the same shape. */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  sendError(toAppError(err), err, req, reply);
}

function sendError(mapped: AppError, original: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (mapped.status >= 500) req.log.error({ err: original }, 'request failed');
  else req.log.info({ code: mapped.code, message: mapped.message.slice(0, 300) }, 'request rejected');
  if (mapped.retryAfterS) reply.header('retry-after', String(mapped.retryAfterS));
  return reply.status(mapped.status).send(mapped.toJSON());
}

function clippedPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.length > 120 ? `${path.slice(0, 120)}…` : path;
}

function toAppError(err: FastifyError): AppError {
  if (isAppError(err)) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext === 'body' ? '' : `${err.validationContext}.`;
    const issues = err.validation.map((v) => ({
      path: where + (v.instancePath.slice(1).replaceAll('/', '.') || '(root)'),
      message: (v.message ?? 'invalid').slice(0, 200),
    }));
    return invalidInput(err.validationContext ?? 'request', issues);
  }
  if (err.code && fastifyCodes[err.code]) return fastifyCodes[err.code]!();
  if (isResponseSerializationError(err as never)) return new AppError('internal', 'internal error');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError(
      statusKinds[err.statusCode] ?? 'invalidInput',
      (err.message || STATUS_CODES[err.statusCode] || 'bad request').slice(0, 200),
    );
  }
  return new AppError('internal', 'internal error');
}

/**
 * Errors Node's HTTP parser raises before a request exists (a stalled body past REQUEST_TIMEOUT_MS,
 * headers over the size limit, malformed HTTP): answered in the same shape, then the socket closes.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const mapped =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('requestTimeout', 'the request was not received within REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError('headersTooLarge', 'the request headers are larger than 16 KiB')
        : new AppError('invalidInput', 'malformed HTTP request');
  const body = JSON.stringify(mapped.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status]}\r\nContent-Type: application/json; ` +
        `charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
