import { parseArgs } from 'node:util';
import { embeddedProfiles } from '../profiles/index.js';
import { PredictorRegistry } from '../ml/registry.js';
import { TwinPool } from '../jobs/simulate-pool.js';
import { checkPlacementWork, parseWorkload, place } from '../placement/index.js';
import { loadWorkLimits } from '../config.js';
import { readInputDocuments, withItemPath, writeJson } from './io.js';
import { parseWorkers } from './simulate.js';

export const placeHelp = `place [FILE] [--workers N] [--pretty]   Workload (object, array or JSONL; stdin when no FILE) -> Placement

The fewest GPUs (or, with objective "min-latency", a spread over gpuCount GPUs), which adapters and
what share of their traffic on each, each GPU's --max-loras / --max-cpu-loras / --max-lora-rank and
full vllmArgs, a routing table, and the adapters that cannot be served (unplaced, with the reason).
With "verify": true every GPU is simulated by the Twin and repaired until none starves.
Work limits as in the service (MAX_SIMULATED_REQUESTS, MAX_SIMULATED_SECONDS, MAX_VERIFIED_REQUESTS,
MAX_GPUS in the environment; defaults in docs/service.md): a workload beyond them exits 2.
  --workers N   worker threads for verification (default: all cores)`;

export async function runPlace(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { workers: { type: 'string' }, pretty: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const pool = new TwinPool(parseWorkers(values.workers));
  const input = readInputDocuments(positionals[0]);
  const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
  const limits = loadWorkLimits();
  // validate everything before placing anything: bad input fails fast, naming the item
  const workloads = input.items.map((item, i) => {
    try {
      const w = parseWorkload(item);
      registry.get(w.model, w.gpu);
      checkPlacementWork(w, limits);
      return w;
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  try {
    for (const w of workloads) writeJson(await place(w, registry.get(w.model, w.gpu), { simulate: (s) => pool.run(s), parallel: pool.workers, limits }), values.pretty);
  } finally {
    await pool.destroy();
  }
  return 0;
}
