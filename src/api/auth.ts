import { timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Guard of the routes that change the service's state (pools, refresh) when API_TOKEN is set:
 * `Authorization: Bearer <token>`, compared in constant time.
 */
export function requireToken(token: string | undefined): onRequestHookHandler {
  const expected = token ? Buffer.from(`Bearer ${token}`) : null;
  return async (req) => {
    if (!expected) return;
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('unauthorized', 'this route needs "Authorization: Bearer <API_TOKEN>"');
    }
  };
}
