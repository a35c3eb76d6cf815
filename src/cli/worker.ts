import { availableParallelism } from 'node:os';
import { defaultKeyPrefix, describeQueue, sweepQueueAddress } from '../training/sweep-queue.js';
import { intOption, parseCommandArgs, quietOption, requireOption } from './args.js';

/** Connection problems are written at most this often (BullMQ retries by itself). */
const errorLogMs = 10_000;

/**
 * `lora-placer worker`: takes sweep jobs from the queue on REDIS_URL until SIGTERM / SIGINT, which let
 * the running jobs finish (a second signal exits at once; the queue gives its jobs to another worker).
 */
export async function runWorker(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('worker', argv, {
    redis: { type: 'string' },
    concurrency: { type: 'string' },
    'lock-s': { type: 'string', default: '30' },
    ...quietOption,
  });
  const flag = values.redis === undefined ? 'REDIS_URL' : '--redis';
  const url = requireOption(values.redis ?? process.env.REDIS_URL, '--redis', 'or REDIS_URL');
  const address = sweepQueueAddress(url, flag, process.env.REDIS_KEY_PREFIX ?? defaultKeyPrefix);
  const threads =
    values.concurrency === undefined ? availableParallelism() : intOption(values.concurrency, '--concurrency');
  const lockMs = intOption(values['lock-s'], '--lock-s') * 1000;
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} worker: ${line}\n`);
  // the queue library loads once the options are known to be good
  const { SweepQueueWorker } = await import('../training/sweep-queue-worker.js');
  let lastError = 0;
  const worker = new SweepQueueWorker({
    address,
    threads,
    lockMs,
    onJob: (r) => {
      if (r.error !== null) log(`job ${r.id} (${r.what}) failed${r.final ? ' for good' : ''}: ${r.error}`);
      else if (!values.quiet) log(`job ${r.id} (${r.what}) done in ${(r.ms / 1000).toFixed(1)} s`);
    },
    onError: (err) => {
      if (Date.now() - lastError < errorLogMs) return;
      lastError = Date.now();
      log(`${describeQueue(address)}: ${err.message} (retrying)`);
    },
  });
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log(`${signal}: taking no more jobs, finishing the running ones (again to exit at once)`);
      process.once(signal, () => process.exit(1));
      worker.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const ready = await Promise.race([worker.ready().then(() => true), stopped.then(() => false)]);
  if (ready) log(`${worker.name} takes sweep jobs from ${describeQueue(address)} on ${threads} thread(s)`);
  return stopped;
}
