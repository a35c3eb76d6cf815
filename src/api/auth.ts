import { timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Which /v1 routes need `Authorization: Bearer <API_TOKEN>` when a token is set (AUTH_SCOPE):
 * - `mutating`: the routes that change state (PUT/DELETE pools, start/cancel refreshes);
 * - `expensive` (default): those, and the routes that run the Twin or a placement search
 *   (POST /v1/simulate, POST /v1/placements), which an anonymous caller could keep busy;
 * - `all`: every /v1 route, predictions and reads included.
 * Health, readiness, metrics and the OpenAPI document stay open: probes and scrapers send no token.
 */
export const authScopes = ['mutating', 'expensive', 'all'] as const;
export type AuthScope = (typeof authScopes)[number];

/** The onRequest guard of each class of route; a guard that does not apply lets every request through. */
export interface AuthGuards {
  read: onRequestHookHandler;
  expensive: onRequestHookHandler;
  mutating: onRequestHookHandler;
}

const open: onRequestHookHandler = (_req, _reply, done) => done();

export function authGuards(token: string | undefined, scope: AuthScope = 'expensive'): AuthGuards {
  if (!token) return { read: open, expensive: open, mutating: open };
  const check = requireToken(token);
  return { read: scope === 'all' ? check : open, expensive: scope === 'mutating' ? open : check, mutating: check };
}

/** `Authorization: Bearer <token>`, compared in constant time (the token is never logged). */
function requireToken(token: string): onRequestHookHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, _reply, done) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      done(new AppError('unauthorized', 'this route needs "Authorization: Bearer <API_TOKEN>"'));
      return;
    }
    done();
  };
}

/**
 * OpenAPI `security` of each class of route, as the guards enforce it under the default scope (`expensive`), so
 * generated clients and Swagger UI's Authorize send the token where it is needed: `read` declares it optional
 * (`{}` or bearer: only AUTH_SCOPE=all needs it, a client holding a token sends it anyway), `open` declares none
 * (health and readiness, which have no guard). test/api/openapi-security.test.ts checks both against the guards.
 */
export const routeSecurity: Record<keyof AuthGuards | 'open', Record<string, string[]>[]> = {
  open: [],
  read: [{}, { bearer: [] }],
  expensive: [{ bearer: [] }],
  mutating: [{ bearer: [] }],
};

/** OpenAPI `security` of the routes a token protects in the default scope (clients and Swagger UI send it). */
export const tokenSecurity = routeSecurity.mutating;
