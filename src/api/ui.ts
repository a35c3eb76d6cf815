import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../shared/errors.js';
import { uiCss } from './ui/css.js';
import { uiHtml } from './ui/html.js';
import { uiScript } from './ui/script.js';

/**
 * The page's Content-Security-Policy: scripts and styles from this service only (no inline script,
 * no eval, no CDN), API calls to this service only, nothing framed or posted elsewhere.
 */
export const uiCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Chart.js's browser build, from node_modules (a dependency): the page works offline. */
function chartJsFile(): string {
  // the package's exports map does not list dist/chart.umd.min.js; its CommonJS entry sits beside it
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

interface Asset {
  type: string;
  body: string | Buffer;
  /** strong validator of the body: a revisit asks If-None-Match and gets a 304 instead of Chart.js again */
  etag: string;
}

function asset(type: string, body: string | Buffer): Asset {
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * GET /ui (the web view of pools and placements) and its assets; static, so open like /docs: the API calls it makes
 * carry the token.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  // the browser script is read (a build) or transpiled (tsx) when first asked for: see ./ui/script.ts
  const script = uiScript();
  let scriptAsset: Promise<Asset> | undefined;
  const fixed = (a: Asset) => async () => a;
  const assets = new Map<string, () => Promise<Asset>>([
    ['ui.js', () => (scriptAsset ??= script().then((js) => asset('text/javascript; charset=utf-8', js)))],
    ['ui.css', fixed(asset('text/css; charset=utf-8', uiCss))],
    ['chart.umd.min.js', fixed(asset('text/javascript; charset=utf-8', readFileSync(chartJsFile())))],
  ]);
  const secure = (reply: FastifyReply, type: string): FastifyReply =>
    reply
      .type(type)
      .header('content-security-policy', uiCsp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache');
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) =>
    secure(reply, 'text/html; charset=utf-8').send(uiHtml),
  );
  app.get<{ Params: { name: string } }>('/ui/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    const load = assets.get(req.params.name);
    if (!load) {
      const name = /^[A-Za-z0-9._-]{1,64}$/.test(req.params.name) ? `"${req.params.name}"` : 'of that name';
      throw new AppError('notFound', `no UI asset ${name} (there are ${[...assets.keys()].join(', ')})`);
    }
    const found = await load();
    secure(reply, found.type).header('etag', found.etag);
    if (req.headers['if-none-match'] === found.etag) return reply.status(304).send();
    return reply.send(found.body);
  });
}
