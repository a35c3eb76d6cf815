/**
 * Fits the roofline efficiencies of src/profiles/build/kernel-costs.ts (rooflineFit) on the measured GPUs:
 * the vLLM 0.14.0 GEMM and attention tables of A100 SXM, H100 SXM, H200 SXM and L40S
 * (../shared/data/operator-profiles/aiconfigurator), by grid search on the RMS of log(roofline / measured).
 *   npx tsx scripts/fit-roofline.ts [--data ../shared/data]
 */
import { catalogGpu } from '../src/profiles/build/gpu-catalog.js';
import type { KernelTables } from '../src/profiles/build/kernel-tables.js';
import { readKernelTables } from '../src/profiles/build/kernel-table-files.js';

const dataIndex = process.argv.indexOf('--data');
const data = dataIndex > 0 ? (process.argv[dataIndex + 1] as string) : '../shared/data';
const systems: [string, string][] = [
  ['a100_sxm', 'a100-80gb'],
  ['h100_sxm', 'h100-80gb'],
  ['h200_sxm', 'h200'],
  ['l40s', 'l40s'],
];
const tables: [KernelTables, ReturnType<typeof catalogGpu>][] = systems.map(([s, g]) => [
  readKernelTables(data, s, '0.14.0'),
  catalogGpu(g),
]);
const range = (lo: number, hi: number, step: number) =>
  Array.from({ length: Math.round((hi - lo) / step) + 1 }, (_, i) => lo + i * step);
const rmsLog = (pairs: [number, number][]) =>
  Math.sqrt(pairs.reduce((s, [p, y]) => s + Math.log(p / y) ** 2, 0) / pairs.length);

let best = { err: Infinity, mem: 0, comp: 0, launch: 0 };
for (const mem of range(0.5, 0.95, 0.05))
  for (const comp of range(0.4, 0.95, 0.05))
    for (const launch of [0.003, 0.004, 0.005, 0.006, 0.008, 0.01]) {
      const pairs: [number, number][] = [];
      for (const [t, gpu] of tables)
        for (const g of t.gemm) {
          if (g.n * g.k > 2 ** 28 || g.m > 4096) continue;
          const bytes = 2 * (g.n * g.k + g.m * (g.n + g.k));
          const p =
            launch +
            Math.max((bytes / (gpu.bandwidth * mem)) * 1e3, ((2 * g.m * g.n * g.k) / (gpu.bf16Flops * comp)) * 1e3);
          pairs.push([p, g.ms]);
        }
      const err = rmsLog(pairs);
      if (err < best.err) best = { err, mem, comp, launch };
    }
console.log('GEMM', best);

const launches = [0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03];
let bestDecode = { err: Infinity, eff: 0, launch: 0 };
for (const launch of launches)
  for (const eff of range(0.2, 0.95, 0.05)) {
    const pairs: [number, number][] = [];
    for (const [t, gpu] of tables)
      for (const a of t.decodeAttention) {
        const bytes = a.batch * a.length * a.kvHeads * 128 * 4;
        pairs.push([launch + (bytes / (gpu.bandwidth * eff)) * 1e3, a.ms]);
      }
    const err = rmsLog(pairs);
    if (err < bestDecode.err) bestDecode = { err, eff, launch };
  }
console.log('decode attention bandwidth', bestDecode);

let bestPrefill = { err: Infinity, eff: 0, launch: 0 };
for (const launch of launches)
  for (const eff of range(0.1, 0.95, 0.05)) {
    const pairs: [number, number][] = [];
    for (const [t, gpu] of tables)
      for (const a of t.prefillAttention) {
        if (a.batch !== 1) continue;
        const flops = 2 * a.length * a.length * a.heads * 128;
        pairs.push([launch + (flops / (gpu.bf16Flops * eff)) * 1e3, a.ms]);
      }
    const err = rmsLog(pairs);
    if (err < bestPrefill.err) bestPrefill = { err, eff, launch };
  }
console.log('prefill attention compute', bestPrefill);
