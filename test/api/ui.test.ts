import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uiCsp } from '../../src/api/ui.js';
import { uiScript } from '../../src/api/ui/script.js';
import { buildTestApp } from '../helpers/app.js';

/** The browser script as this process serves it: run from the sources, src/ui/client.ts transpiled. */
const uiJs = await uiScript()();

describe('the web view at /ui', async () => {
  const app = await buildTestApp({ apiToken: 'ui-test-token', authScope: 'all' });
  afterAll(() => app.close());

  it('answers the page as HTML with a CSP that allows no inline or foreign script, without a token', async () => {
    const r = await app.inject({ url: '/ui' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(uiCsp);
    expect(uiCsp).toMatch(/script-src 'self';/);
    expect(uiCsp).toMatch(/default-src 'none'/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body).toMatch(/^<!doctype html>/);
    // every script is a file of this service: none inline, none from elsewhere
    const scripts = [...r.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => /src="([^"]+)"/.exec(m[1]!)?.[1])).toEqual([
      '/ui/assets/chart.umd.min.js',
      '/ui/assets/ui.js',
    ]);
    expect(scripts.every((m) => m[2]!.trim() === '')).toBe(true);
    expect(r.body).not.toMatch(/\sstyle=|<style|https?:\/\//);
  });

  it('serves its script, style sheet and Chart.js with their content types', async () => {
    const js = await app.inject({ url: '/ui/assets/ui.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toBe(uiJs);
    // JavaScript, not the TypeScript source: no type imports or annotations left
    expect(js.body).toMatch(/^const parallel = 4;$/m);
    expect(js.body).not.toMatch(/import type|: string\b|interface /);
    const css = await app.inject({ url: '/ui/assets/ui.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toMatch(/\.gpu-card/);
    const chart = await app.inject({ url: '/ui/assets/chart.umd.min.js' });
    expect(chart.statusCode).toBe(200);
    expect(chart.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(chart.body).toMatch(/Chart\.js v4\.6\.1/);
    expect(chart.body.length).toBeGreaterThan(100_000);
  });

  it('answers a revisit of an asset with 304 when it has not changed', async () => {
    const first = await app.inject({ url: '/ui/assets/chart.umd.min.js' });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await app.inject({ url: '/ui/assets/chart.umd.min.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await app.inject({ url: '/ui/assets/ui.js', headers: { 'if-none-match': etag } });
    expect(other.statusCode).toBe(200);
    expect(other.headers.etag).not.toBe(etag);
  });

  it('ships a script that parses as an ES module and builds no HTML from strings', () => {
    const check = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: uiJs, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(uiJs).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it("serves a build's compiled script as it is, and fails at start without it and the source", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lp-ui-script-'));
    try {
      expect(() => uiScript(dir)).toThrow(/the web view's script is missing: no .*client\.js \(npm run build/);
      // a build's folder: the compiled file wins over a source beside it, which is not transpiled
      writeFileSync(join(dir, 'client.ts'), 'const broken: = ;');
      writeFileSync(join(dir, 'client.js'), 'document.title = "built";\n');
      expect(await uiScript(dir)()).toBe('document.title = "built";\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers an unknown asset 404 in the error shape, and does not echo an odd name', async () => {
    const r = await app.inject({ url: '/ui/assets/nope.js' });
    expect(r.statusCode).toBe(404);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual({
      error: { code: 'LP_ERR_NOT_FOUND', message: expect.stringMatching(/^no UI asset "nope\.js"/) },
    });
    const odd = await app.inject({ url: `/ui/assets/${encodeURIComponent('<img src=x>')}` });
    expect(odd.statusCode).toBe(404);
    expect(odd.json().error.code).toBe('LP_ERR_NOT_FOUND');
    expect(odd.body).not.toMatch(/<img/);
  });

  it('is not in the OpenAPI document', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
  });
});
