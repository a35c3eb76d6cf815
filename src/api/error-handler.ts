import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, isAppError } from '../shared/errors.js';

/** Fastify's own client errors, as the stable codes of the API. */
const fastifyCodes: Record<string, () => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new AppError('bodyTooLarge', 'request body is larger than the limit (BODY_LIMIT_BYTES)'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new AppError('invalidInput', 'request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new AppError('invalidInput', 'request body is empty; a JSON document is required'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new AppError('unsupportedMediaType', 'send the body as application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new AppError('invalidInput', 'content-length does not match the body'),
};

/**
 * One mapping from anything thrown to `{ error: { code, message, details } }`: schema failures name
 * every offending field, 5xx never carry internals (they are logged with the request id instead).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const mapped = toAppError(err);
    if (mapped.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: mapped.code, message: mapped.message }, 'request rejected');
    return reply.status(mapped.status).send(mapped.toJSON());
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(new AppError('notFound', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON()));
}

function toAppError(err: FastifyError): AppError {
  if (isAppError(err)) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext === 'body' ? '' : `${err.validationContext}.`;
    const issues = err.validation.map((v) => ({ path: where + (v.instancePath.slice(1).replaceAll('/', '.') || '(root)'), message: v.message ?? 'invalid' }));
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    return new AppError('invalidInput', `invalid ${err.validationContext ?? 'request'}: ${first.path}: ${first.message}${more}`, { issues });
  }
  if (err.code && fastifyCodes[err.code]) return fastifyCodes[err.code]!();
  if (isResponseSerializationError(err as never)) return new AppError('internal', 'internal error');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('invalidInput', err.message);
  }
  return new AppError('internal', 'internal error');
}
