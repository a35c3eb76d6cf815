import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FastifyRouteSchemaDef, FastifyValidationResult } from 'fastify/types/schema.js';
import { validatorCompiler } from 'fastify-type-provider-zod';

/**
 * Routes whose work runs on the work queue (simulate, placements, pool plans) take their JSON body as
 * text: the worker thread parses and validates it, so a large or malformed body costs the HTTP thread
 * only the bytes. Call inside the plugin that registers those routes (content-type parsers are scoped
 * to it). The routes keep their zod body schema for OpenAPI, with `bodyValidatedInWorker` as validator.
 */
export function takeJsonAsText(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

/** Validates params and query as usual; passes the body text through to the worker. */
export function bodyValidatedInWorker<S>(route: FastifyRouteSchemaDef<S>): FastifyValidationResult {
  return route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as never);
}

/** The body text of an offloaded route (Fastify hands over a string; an absent body is empty text). */
export function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : '';
}

/**
 * Aborts when the client hangs up before its answer is written: the task is dropped from the queue, or
 * its worker stopped, instead of computing an answer nobody reads.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}
