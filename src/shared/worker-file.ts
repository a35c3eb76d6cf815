import { fileURLToPath } from 'node:url';

/**
 * Location and Node flags of a worker entry next to `moduleUrl`: the compiled .js under dist/, or the
 * .ts source (run through tsx) when lora-placer itself runs from source (tsx, vitest).
 */
export function workerEntry(moduleUrl: string, baseName: string): { filename: string; execArgv: string[] } {
  const fromSource = moduleUrl.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./${baseName}.${fromSource ? 'ts' : 'js'}`, moduleUrl));
  return { filename, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}
