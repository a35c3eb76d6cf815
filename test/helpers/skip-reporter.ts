/**
 * Ends every run with the list of what it skipped and why (vitest reporter, beside the default one).
 * A suite skipped by `describeWith` (test/helpers/real-parts.ts) names the programs it needs and their
 * Debian packages; any other skipped test is listed as skipped without a reason, which a review should
 * not let through. Under LORA_PLACER_REAL_PARTS=required (npm run test:all) any skip fails the run.
 */
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

interface Skip {
  name: string;
  reason: string;
  tests: number;
}

/** The skipped suites and tests of one module, a suite skipped as a whole counted once with its tests. */
function skipsOf(module: TestModule): Skip[] {
  const skips: Skip[] = [];
  const visit = (parent: TestModule | TestSuite, path: string) => {
    for (const child of parent.children) {
      const name = `${path} > ${child.name}`;
      if (child.type === 'suite') {
        const reason = child.meta().skipReason;
        if (reason) skips.push({ name, reason, tests: [...child.children.allTests()].length });
        else visit(child, name);
      } else if ((child as TestCase).result().state === 'skipped') {
        const note = (child as TestCase).result() as { note?: string };
        skips.push({ name, reason: note.note ?? 'skipped (no reason given)', tests: 1 });
      }
    }
  };
  visit(module, module.relativeModuleId);
  return skips;
}

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skips = modules.flatMap(skipsOf);
    const out = process.stdout;
    if (skips.length === 0) {
      out.write('\nskipped: nothing\n');
      return;
    }
    const tests = skips.reduce((n, s) => n + s.tests, 0);
    out.write(`\nskipped: ${tests} test${tests === 1 ? '' : 's'} in ${skips.length} group(s)\n`);
    for (const s of skips) out.write(`  - ${s.name} (${s.tests}): ${s.reason}\n`);
    if (process.env.LORA_PLACER_REAL_PARTS === 'required') {
      out.write('LORA_PLACER_REAL_PARTS=required: nothing may be skipped\n');
      process.exitCode = 1;
    }
  }
}
