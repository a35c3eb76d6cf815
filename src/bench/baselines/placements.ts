import type { Predictor } from '../../ml/predictor.js';
import { computeFeatures, featureCount } from '../../ml/features.js';
import { kvCapacityTokens, type Profile } from '../../profiles/index.js';
import type { ParsedScenario } from '../../twin/index.js';
import { PlacementContext } from '../../placement/context.js';
import { gpuScenarioOf } from '../../placement/gpu-scenario.js';
import { adapterLengthMeans } from '../../placement/items.js';
import type { ParsedWorkload } from '../../placement/workload.js';

/** A baseline's answer for one GPU: adapters with the traffic routed to it, and its LoRA knobs. */
export interface GpuAssignment {
  adapters: { adapter: number; rate: number }[];
  maxLoras: number;
  maxLoraRank: number;
}

interface AdapterDemand {
  adapter: number;
  rate: number;
  rank: number;
  demand: number;
}

function demands(workload: ParsedWorkload): AdapterDemand[] {
  const means = adapterLengthMeans(workload);
  return workload.adapters.map((a, i) => ({
    adapter: i,
    rate: a.rate,
    rank: a.rank,
    demand: a.rate * (means.input[i]! + means.output[i]!),
  }));
}

const byDemandDesc = (a: AdapterDemand, b: AdapterDemand): number => b.demand - a.demand || a.adapter - b.adapter;

/** --max-lora-rank for a GPU's adapters; one slot per adapter (as LoRAServe and dLoRA size engines). */
function slotPerAdapter(workload: ParsedWorkload, adapters: { adapter: number; rate: number }[]): GpuAssignment {
  const maxRank = Math.max(...adapters.map((a) => workload.adapters[a.adapter]!.rank));
  return { adapters, maxLoras: adapters.length, maxLoraRank: loraRankOf(maxRank) };
}

const allowedRanks = [8, 16, 32, 64, 128, 256, 320, 512];
const loraRankOf = (rank: number): number => allowedRanks.find((r) => r >= rank) ?? 512;

/**
 * Rate balancing over `gpus` GPUs (LoRAServe-like): adapters hotter than a GPU's fair share are split
 * into fair-share pieces, then every piece goes to the GPU with the least demand so far (largest
 * first); each GPU gets one slot per adapter it serves.
 */
export function rateBalancing(workload: ParsedWorkload, gpus: number): GpuAssignment[] {
  const all = demands(workload);
  const fair = all.reduce((s, a) => s + a.demand, 0) / gpus;
  const pieces: AdapterDemand[] = [];
  for (const a of all) {
    const parts = fair > 0 ? Math.min(gpus, Math.max(1, Math.ceil(a.demand / fair - 1e-9))) : 1;
    for (let p = 0; p < parts; p++) pieces.push({ ...a, rate: a.rate / parts, demand: a.demand / parts });
  }
  pieces.sort(byDemandDesc);
  const load = new Array<number>(gpus).fill(0);
  const placed: { adapter: number; rate: number }[][] = Array.from({ length: gpus }, () => []);
  for (const piece of pieces) {
    let best = -1;
    for (let g = 0; g < gpus; g++) {
      if (placed[g]!.some((a) => a.adapter === piece.adapter)) continue;
      if (best < 0 || load[g]! < load[best]!) best = g;
    }
    load[best]! += piece.demand;
    placed[best]!.push({ adapter: piece.adapter, rate: piece.rate });
  }
  return placed.filter((p) => p.length > 0).map((p) => slotPerAdapter(workload, p));
}

/** Round robin: adapter i on GPU i mod `gpus`, one slot per adapter. */
export function roundRobin(workload: ParsedWorkload, gpus: number): GpuAssignment[] {
  const placed: { adapter: number; rate: number }[][] = Array.from({ length: gpus }, () => []);
  workload.adapters.forEach((a, i) => {
    placed[i % gpus]!.push({ adapter: i, rate: a.rate });
  });
  return placed.filter((p) => p.length > 0).map((p) => slotPerAdapter(workload, p));
}

/**
 * Dynamo-like allocation over `gpus` GPUs: each adapter gets a replica count by load (its demand in
 * fair per-GPU shares, rounded up, 1 to `gpus`) and its replicas go to the GPUs that rank highest for
 * it by rendezvous (highest-random-weight) hashing, so adding a GPU moves few adapters; requests split
 * evenly over the replicas; one slot per adapter a GPU serves.
 */
export function dynamoLike(workload: ParsedWorkload, gpus: number): GpuAssignment[] {
  const all = demands(workload);
  const fair = all.reduce((s, a) => s + a.demand, 0) / gpus;
  const placed: { adapter: number; rate: number }[][] = Array.from({ length: gpus }, () => []);
  for (const a of all) {
    const replicas = fair > 0 ? Math.min(gpus, Math.max(1, Math.ceil(a.demand / fair - 1e-9))) : 1;
    const id = workload.adapters[a.adapter]!.id;
    const ranked = Array.from({ length: gpus }, (_, g) => ({ g, weight: rendezvousWeight(id, g) })).sort(
      (x, y) => y.weight - x.weight || x.g - y.g,
    );
    for (const { g } of ranked.slice(0, replicas)) placed[g]!.push({ adapter: a.adapter, rate: a.rate / replicas });
  }
  return placed.filter((p) => p.length > 0).map((p) => slotPerAdapter(workload, p));
}

/** FNV-1a of "<adapter id>#<gpu>", finished with a 32-bit mix: the rendezvous weight of a GPU for an adapter. */
function rendezvousWeight(id: string, gpu: number): number {
  let h = 0x811c9dc5;
  const key = `${id}#${gpu}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * dLoRA-like proactive placement over `gpus` GPUs: a GPU's "burst tolerance" is its free KV cache
 * (after one slot per adapter) over its expected demand. Adapters go, largest first, where the
 * tolerance stays highest; then the hottest adapter of the least tolerant GPU is replicated onto the
 * most tolerant GPU (requests split evenly over replicas) while that raises the minimum tolerance.
 */
export function dloraProactive(workload: ParsedWorkload, profile: Profile, gpus: number): GpuAssignment[] {
  const all = demands(workload).sort(byDemandDesc);
  const replicas = all.map(() => [] as number[]);
  const gpu = Array.from({ length: gpus }, () => ({ members: [] as number[], load: 0, maxRank: 0 }));
  const kvCache = new Map<string, number>();
  const kv = (slots: number, rank: number): number => {
    const key = `${slots}/${rank}`;
    let v = kvCache.get(key);
    if (v === undefined) {
      v = kvCapacityTokens(profile, slots, loraRankOf(rank));
      kvCache.set(key, v);
    }
    return v;
  };
  const tolerance = (g: number, extraDemand = 0, extraRank = 0, extraCount = 0): number => {
    const s = gpu[g]!;
    const load = s.load + extraDemand;
    const free = kv(s.members.length + extraCount, Math.max(s.maxRank, extraRank));
    return load > 0 ? free / load : free;
  };
  const host = (i: number, g: number): void => {
    const a = all[i]!;
    const share = (n: number): number => a.demand / n;
    for (const h of replicas[i]!) gpu[h]!.load += share(replicas[i]!.length + 1) - share(replicas[i]!.length);
    replicas[i]!.push(g);
    gpu[g]!.members.push(i);
    gpu[g]!.load += share(replicas[i]!.length);
    gpu[g]!.maxRank = Math.max(gpu[g]!.maxRank, a.rank);
  };
  all.forEach((a, i) => {
    let best = 0;
    for (let g = 1; g < gpus; g++)
      if (tolerance(g, a.demand, a.rank, 1) > tolerance(best, a.demand, a.rank, 1)) best = g;
    host(i, best);
  });
  for (let round = 0; round < 4 * gpus; round++) {
    const tolerances = gpu.map((_, g) => tolerance(g));
    const before = Math.min(...tolerances);
    const worst = tolerances.indexOf(before);
    const hottest = gpu[worst]!.members.reduce((b, i) => (b < 0 || all[i]!.demand > all[b]!.demand ? i : b), -1);
    if (hottest < 0) break;
    const target = tolerances
      .map((t, g) => ({ t, g }))
      .filter(({ g }) => !replicas[hottest]!.includes(g))
      .sort((a, b) => b.t - a.t || a.g - b.g)[0];
    if (!target) break;
    const snapshot = gpu.map((s) => ({ ...s, members: s.members.slice() }));
    const hostsBefore = replicas[hottest]!.slice();
    host(hottest, target.g);
    if (!(Math.min(...gpu.map((_, g) => tolerance(g))) > before)) {
      snapshot.forEach((s, g) => {
        gpu[g] = s;
      });
      replicas[hottest] = hostsBefore;
      break;
    }
  }
  return gpu
    .map((s) => s.members.map((i) => ({ adapter: all[i]!.adapter, rate: all[i]!.rate / replicas[i]!.length })))
    .filter((p) => p.length > 0)
    .map((p) => slotPerAdapter(workload, p));
}

/**
 * The research system's grid of adapter counts and slot counts (its next-fit placement; docs/placement.md, section How
 * placement works).
 */
const researchGrid = [8, 16, 32, 64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 576];

/**
 * The research placement (next-fit decreasing by rank over the coarse grid), with this project's
 * predictors in place of the research ones: rank groups in decreasing rank, zigzag order of rates
 * inside a group; a GPU takes adapters until the next grid count, then keeps its slots if that
 * predicts strictly more throughput than the next grid slot count, and closes for good when the
 * starvation classifier objects (the pending adapters go to the next GPU). Never revisits a GPU,
 * never splits an adapter. Uses as many GPUs as it needs.
 */
export function researchNextFit(workload: ParsedWorkload, predictor: Predictor): GpuAssignment[] {
  const ctx = new PlacementContext(predictor, workload, workload.options);
  const all = demands(workload);
  const means = adapterLengthMeans(workload);
  const groups = [...new Set(all.map((a) => a.rank))]
    .sort((a, b) => b - a)
    .map((rank) => zigzag(all.filter((a) => a.rank === rank)));
  const queue = groups.flat();
  const servers: { placed: AdapterDemand[]; slots: number }[] = [];
  let server = { placed: [] as AdapterDemand[], slots: 0, aIdx: 0, slotIdx: 0 };
  let pending: AdapterDemand[] = [];
  const x = new Float64Array(featureCount);
  const predict = (set: AdapterDemand[], slots: number): { throughput: number; starved: boolean } | null => {
    const rank = loraRankOf(Math.max(...set.map((a) => a.rank)));
    const limit = ctx.slotsAllowed(rank);
    if (slots > limit) return null;
    let rateSum = 0;
    let inW = 0;
    let outW = 0;
    for (const a of set) {
      rateSum += a.rate;
      inW += a.rate * means.input[a.adapter]!;
      outW += a.rate * means.output[a.adapter]!;
    }
    computeFeatures(
      ctx.profile,
      {
        rates: set.map((a) => a.rate),
        ranks: set.map((a) => a.rank),
        slots,
        servedAdapters: set.length,
        maxLoraRank: rank,
        inputMean: rateSum > 0 ? inW / rateSum : means.input[set[0]!.adapter]!,
        outputMean: rateSum > 0 ? outW / rateSum : means.output[set[0]!.adapter]!,
        kvCacheTokens: kvCapacityTokens(ctx.profile, slots, rank),
        maxNumBatchedTokens: ctx.maxNumBatchedTokens,
        maxNumSeqs: ctx.maxNumSeqs,
      },
      x,
    );
    const p = predictor.predictFeatures(x);
    return { throughput: p.throughput, starved: p.starved };
  };
  // one grid test: returns the chosen slot count, or null to close the server
  const test = (set: AdapterDemand[], adapters: number): number | null => {
    const candidates: number[] = [];
    if (server.slots > 0) candidates.push(server.slots);
    const next = researchGrid[server.slotIdx];
    if (next !== undefined && next <= adapters) candidates.push(next);
    if (candidates.length === 0) candidates.push(Math.min(adapters, researchGrid[0]!));
    const scored = candidates.map((slots) => ({ slots, p: predict(set, slots) })).filter((c) => c.p !== null);
    if (scored.length === 0) return null;
    const keep =
      scored.length === 2 && scored[0]!.p!.throughput > scored[1]!.p!.throughput
        ? scored[0]!
        : scored[scored.length - 1]!;
    if (keep.slots !== server.slots && keep.slots === next) server.slotIdx++;
    return keep.p!.starved ? null : keep.slots;
  };
  const close = (): void => {
    if (server.placed.length > 0) servers.push({ placed: server.placed, slots: server.slots });
    server = { placed: [], slots: 0, aIdx: 0, slotIdx: 0 };
  };
  while (queue.length > 0 || pending.length > 0) {
    if (queue.length > 0) pending.push(queue.shift()!);
    const target = researchGrid[server.aIdx];
    const atGridPoint = target !== undefined && server.placed.length + pending.length === target;
    if (!atGridPoint && queue.length > 0) continue;
    const set = [...server.placed, ...pending];
    const slots = test(set, set.length);
    if (slots !== null) {
      server.placed = set;
      server.slots = slots;
      pending = [];
      server.aIdx++;
      if (server.aIdx >= researchGrid.length) close();
    } else if (server.placed.length === 0) {
      // nothing fits even on an empty GPU: give it one of its own with one slot per adapter
      servers.push({
        placed: pending,
        slots: Math.min(pending.length, ctx.slotsAllowed(loraRankOf(Math.max(...pending.map((a) => a.rank))))),
      });
      pending = [];
      server = { placed: [], slots: 0, aIdx: 0, slotIdx: 0 };
    } else {
      queue.unshift(...pending);
      pending = [];
      close();
    }
  }
  close();
  return servers.map((s) => ({
    adapters: s.placed.map((a) => ({ adapter: a.adapter, rate: a.rate })),
    maxLoras: Math.max(1, s.slots),
    maxLoraRank: loraRankOf(Math.max(...s.placed.map((a) => a.rank))),
  }));
}

/** Largest, smallest, second largest, second smallest, ... (by rate, then id). */
function zigzag(items: AdapterDemand[]): AdapterDemand[] {
  const sorted = [...items].sort((a, b) => a.rate - b.rate || a.adapter - b.adapter);
  const out: AdapterDemand[] = [];
  for (let lo = 0, hi = sorted.length - 1; lo <= hi; ) {
    out.push(sorted[hi--]!);
    if (lo <= hi) out.push(sorted[lo++]!);
  }
  return out;
}

/** The Twin scenario of a baseline's GPU (same protocol as verifying a placement). */
export function assignmentScenario(
  workload: ParsedWorkload,
  a: GpuAssignment,
  maxNumBatchedTokens: number,
  maxNumSeqs: number,
): ParsedScenario {
  return gpuScenarioOf(
    workload,
    {
      maxLoras: a.maxLoras,
      maxCpuLoras: a.adapters.length,
      maxLoraRank: a.maxLoraRank,
      maxNumBatchedTokens,
      maxNumSeqs,
    },
    a.adapters,
  );
}
