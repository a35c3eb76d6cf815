// node --import ./test/helpers/module-trace.mjs ...: appends to the file MODULE_TRACE_FILE names the URL of
// every module the process loads, one a line: ES modules as the loader hook below sees them (this file registers
// itself as the hook), CommonJS ones from require.cache when the process exits. Plain JavaScript, so it runs in
// front of dist/ as well as of tsx.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const out = process.env.MODULE_TRACE_FILE;

export async function load(url, context, next) {
  if (out) appendFileSync(out, `${url}\n`);
  return next(url, context);
}

if (isMainThread && out) {
  register(import.meta.url);
  process.on('exit', () => {
    const required = Object.keys(createRequire(import.meta.url).cache);
    appendFileSync(out, required.map((path) => `${pathToFileURL(path).href}\n`).join(''));
  });
}
