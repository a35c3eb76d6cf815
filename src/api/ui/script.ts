import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.js';

/**
 * The folder of the web view's browser script, resolved from this module: src/ui under tsx (the TypeScript
 * source, src/ui/client.ts, and its tsconfig), dist/ui in a build (dist/ui/client.js, which `npm run build`
 * compiles from it).
 */
export const uiScriptDir = fileURLToPath(new URL('../../ui/', import.meta.url));

/**
 * The browser script as the JavaScript the page loads (an ES module). A build has it compiled (`npm run build`,
 * so `npm start` and the Docker image): it is read, and production needs no TypeScript. Run from the sources
 * (tsx: `npm run dev`, the tests), the first call transpiles client.ts under its own tsconfig with typescript, a
 * dev dependency imported only then, so that a service that never serves the page never loads it. Throws at once
 * when the folder has neither.
 */
export function uiScript(dir = uiScriptDir): () => Promise<string> {
  const compiled = join(dir, 'client.js');
  if (existsSync(compiled)) {
    const text = readFileSync(compiled, 'utf8');
    return async () => text;
  }
  const source = join(dir, 'client.ts');
  if (existsSync(source)) {
    let transpiled: Promise<string> | undefined;
    return () => (transpiled ??= transpile(source, join(dir, 'tsconfig.json')));
  }
  throw new AppError('internal', `the web view's script is missing: no ${compiled} (npm run build compiles it)`);
}

/** What `tsc -p <dir>/tsconfig.json` emits for the source, without the type check (npm run typecheck does that). */
async function transpile(source: string, tsconfig: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const { options, errors } = ts.convertCompilerOptionsFromJson(read.config.compilerOptions, join(tsconfig, '..'));
  if (errors.length)
    throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('; '));
  return ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions: options, fileName: source }).outputText;
}
