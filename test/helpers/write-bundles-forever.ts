/**
 * Child process of test/integration/bundle-crash.test.ts: publishes two Llama variants (throughput
 * leaves scaled by argv[3] and argv[4]) in turn to the bundle folder argv[2], versioned layout as the
 * refresh does, until it is killed. Prints "ready" once the variants are built, then "published
 * <version>" after each complete write.
 */
import { writeVersionedBundle } from '../../src/ml/bundle-store.js';
import { variant } from './bundle-variant.js';

const [bundleDir, scaleA, scaleB] = process.argv.slice(2);
const bundles = [variant(Number(scaleA)), variant(Number(scaleB))];
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const bundle = bundles[i % 2]!;
  writeVersionedBundle(bundleDir!, bundle);
  process.stdout.write(`published ${bundle.metadata.version}\n`);
}
