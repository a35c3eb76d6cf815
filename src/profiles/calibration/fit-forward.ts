import { num, requireNum, type CsvRow } from '../../shared/csv.js';
import { nonNegativeLeastSquares, leastSquares, rms } from '../../shared/least-squares.js';
import type { ForwardModel } from '../schema.js';
import type { MeasurementTables, TableName } from './tables.js';

type BaseParams = Omit<ForwardModel['base'], 'fit'>;

/** One measured mean step, reduced to the quantities the forward model uses. */
interface StepObservation {
  source: TableName;
  decodes: number;
  prefillTokens: number;
  /** mean KV context of a decoding request, tokens */
  context: number;
  adapters: number;
  slots: number;
  maxLoraRank: number;
  /** forward time of one step, ms (scheduler and adapter-load time removed) */
  ms: number;
  /** the base model whose no-LoRA cost is subtracted */
  baseModel: string;
}

export function baseMs(p: BaseParams, o: { decodes: number; prefillTokens: number; context: number }): number {
  return (
    p.constantMs +
    p.perDecodeMs * o.decodes +
    (p.perContextKiloTokenMs * o.decodes * o.context) / 1000 +
    p.perPrefillTokenMs * o.prefillTokens
  );
}

const perModel = (rows: CsvRow[], model: string): CsvRow[] => rows.filter((r) => r.srv_model === model);

/**
 * No-LoRA step time from the base-model probes: decode probes (1-token prompts, 100-400 outputs,
 * `max_num_seqs` 50-1000: mean ITL vs mean running) and prefill probes (outputs of 1 token: every
 * step is a full chunk of prompt tokens). Relative least squares on
 *   ms = c0 + cDecode*B + cContext*B*context/1000 + cPrefill*P.
 */
export function fitBase(tables: MeasurementTables, model: string): ForwardModel['base'] {
  const obs: StepObservation[] = [];
  // base-model decode probes, plus the no-LoRA reference runs of the LoRA-overhead probes
  const noLora = perModel(tables.rows('loraOverhead'), model).filter(
    (r) => r.srv_enable_lora !== 'True' && (r.run_dir ?? '').includes('/output/'),
  );
  for (const r of [...perModel(tables.rows('baseLatency'), model), ...noLora]) {
    const where = `${r.run_dir}`;
    const n = num(r, 'json_completed');
    if (n === null || n === 0 || num(r, 'json_mean_itl_ms') === null) continue;
    const input = requireNum(r, 'json_total_input_tokens', where) / n;
    const output = requireNum(r, 'json_total_output_tokens', where) / n;
    const sched = num(r, 'sched_time_mean_ms') ?? 0;
    if ((r.run_dir ?? '').includes('/output/')) {
      const stepMs = requireNum(r, 'json_mean_itl_ms', where);
      const steps = (requireNum(r, 'json_duration', where) * 1000) / stepMs;
      obs.push({
        ...decodeOnly('baseLatency', model),
        decodes: requireNum(r, 'npy_num_running_mean', where),
        context: input + output / 2,
        prefillTokens: (n * input) / steps,
        ms: stepMs - sched,
      });
    } else if (num(r, 'steps_in_window') !== null && num(r, 'step_interval_mean_ms') !== null) {
      obs.push({
        ...decodeOnly('baseLatency', model),
        decodes: 0,
        context: 0,
        prefillTokens: requireNum(r, 'json_total_input_tokens', where) / requireNum(r, 'steps_in_window', where),
        ms: requireNum(r, 'step_interval_mean_ms', where) - sched,
      });
    }
  }
  const fit = leastSquares(
    obs.map((o) => [1, o.decodes, (o.decodes * o.context) / 1000, o.prefillTokens]),
    obs.map((o) => o.ms),
    obs.map((o) => 1 / (o.ms * o.ms)),
  );
  const [c0, cDecode, cContext, cPrefill] = fit.coefficients as [number, number, number, number];
  return {
    constantMs: c0,
    perDecodeMs: cDecode,
    perContextKiloTokenMs: cContext,
    perPrefillTokenMs: cPrefill,
    fit: {
      source: [tables.file('baseLatency'), tables.file('loraOverhead')],
      rows: obs.length,
      rmsError: rms(fit.residuals),
      rmsRelativeError: rms(fit.residuals.map((e, i) => e / obs[i]!.ms)),
      unit: 'ms per step',
      note:
        'decode probes: mean ITL minus scheduler time vs mean running; ' +
        'prefill probes: mean step interval of full prompt chunks',
    },
  };
}

function decodeOnly(source: TableName, model: string): StepObservation {
  return {
    source,
    decodes: 0,
    prefillTokens: 0,
    context: 0,
    adapters: 0,
    slots: 0,
    maxLoraRank: 8,
    ms: 0,
    baseModel: model,
  };
}

/** Inputs the LoRA fit needs besides the tables. */
export interface LoraFitContext {
  bases: Map<string, BaseParams>;
  /** base model the mixed-load runs were measured on (their table does not record it) */
  mixedRunsModel: string;
  /** request-length shape of the mixed-load runs, rescaled per run to its measured output tokens per request */
  mixedShape: RequestShape;
}

/** Means of a request-length shape: prompt, output, and E[output^2] / (2 E[output]). */
export interface RequestShape {
  promptMean: number;
  outputMean: number;
  /** time-weighted mean number of output tokens already in a decoder's context */
  outputContext: number;
}

/**
 * LoRA cost on top of the base step, fitted jointly on four kinds of runs:
 * idle single requests with LoRA enabled (slots 8-384, ranks 8/16/32, no adapter active), one adapter
 * at a time (loading probes), decode-only batches of ~200 with 1-300 distinct adapters, and mixed
 * prefill/decode ShareGPT load with 8-448 slots. Each source weighs the same in total; residuals are relative.
 */
export function fitLora(tables: MeasurementTables, model: string, ctx: LoraFitContext): ForwardModel['lora'] {
  const obs = loraObservations(tables, model, ctx);
  const base = (o: StepObservation): number => baseMs(ctx.bases.get(o.baseModel)!, o);
  const perSource = new Map<TableName, number>();
  obs.forEach((o) => {
    perSource.set(o.source, (perSource.get(o.source) ?? 0) + 1);
  });
  const design = (o: StepObservation, tile: number): number[] => [
    1,
    o.adapters > 0 ? 1 : 0,
    o.slots * tile,
    o.slots * o.decodes * tile,
    o.slots * o.prefillTokens * tile,
    o.adapters,
  ];
  const weight = (o: StepObservation): number => 1 / (o.ms * o.ms * perSource.get(o.source)!);
  // stage 1: ranks up to 16 share one kernel tile
  const narrow = obs.filter((o) => tiles(o.maxLoraRank) === 1);
  const fit = nonNegativeLeastSquares(
    narrow.map((o) => design(o, 1)),
    narrow.map((o) => o.ms - base(o)),
    narrow.map(weight),
  );
  const c = fit.coefficients as [number, number, number, number, number, number];
  // stage 2: the extra cost of each further 16-rank tile, on the slot terms
  const wide = obs.filter((o) => tiles(o.maxLoraRank) > 1);
  let rankTileFactor = 0;
  if (wide.length > 0) {
    const slotTerm = (o: StepObservation): number =>
      o.slots * (c[2] + c[3] * o.decodes + c[4] * o.prefillTokens) * (tiles(o.maxLoraRank) - 1);
    const rest = (o: StepObservation): number => o.ms - base(o) - design(o, 1).reduce((s, x, i) => s + x * c[i]!, 0);
    const f = leastSquares(
      wide.map((o) => [slotTerm(o)]),
      wide.map(rest),
      wide.map(weight),
    );
    rankTileFactor = Math.max(0, f.coefficients[0] as number);
  }
  const predict = (o: StepObservation): number =>
    base(o) + design(o, 1 + rankTileFactor * (tiles(o.maxLoraRank) - 1)).reduce((s, x, i) => s + x * c[i]!, 0);
  const rel = obs.map((o) => (o.ms - predict(o)) / o.ms);
  const bySource = [...perSource.keys()].map((s) => {
    const r = obs.flatMap((o, i) => (o.source === s ? [rel[i]!] : []));
    return `${tables.file(s)}: ${r.length} runs, rms ${(100 * rms(r)).toFixed(1)} %`;
  });
  return {
    enabledMs: c[0],
    firstAdapterMs: c[1],
    perSlotMs: c[2],
    perSlotDecodeMs: c[3],
    perSlotPrefillTokenMs: c[4],
    perAdapterMs: c[5],
    rankTileFactor,
    fit: {
      source: [...perSource.keys()].map((s) => tables.file(s)),
      rows: obs.length,
      rmsError: rms(obs.map((o) => o.ms - predict(o))),
      rmsRelativeError: rms(rel),
      unit: 'ms per step',
      note:
        `relative residual by source: ${bySource.join('; ')}. Mixed-load runs assumed measured on ` +
        `${ctx.mixedRunsModel} (the table does not record the model).`,
    },
  };
}

function tiles(maxLoraRank: number): number {
  return Math.max(1, Math.ceil(maxLoraRank / 16));
}

function loraObservations(tables: MeasurementTables, model: string, ctx: LoraFitContext): StepObservation[] {
  const obs: StepObservation[] = [];
  for (const r of perModel(tables.rows('kvRuns'), model)) {
    const itl = num(r, 'json_mean_itl_ms');
    const n = num(r, 'json_completed') ?? 1;
    if (itl === null) continue;
    const input = (num(r, 'json_total_input_tokens') ?? 0) / n;
    const output = (num(r, 'json_total_output_tokens') ?? 0) / n;
    // one request on an idle server; with flag_disable_loras_users it uses the base model (no adapter active)
    const adapterActive = r.flag_disable_loras_users === 'True' ? 0 : 1;
    obs.push({
      source: 'kvRuns',
      decodes: 1,
      prefillTokens: 0,
      context: input + output / 2,
      adapters: adapterActive,
      slots: num(r, 'srv_max_loras') ?? 1,
      maxLoraRank: num(r, 'srv_max_lora_rank') ?? 8,
      ms: itl,
      baseModel: model,
    });
  }
  for (const r of perModel(tables.rows('loading'), model)) {
    const where = `${tables.file('loading')} ${r.run_dir}`;
    const n = requireNum(r, 'json_completed', where);
    const input = requireNum(r, 'json_total_input_tokens', where) / n;
    const output = requireNum(r, 'json_total_output_tokens', where) / n;
    // --max-loras 1 and one request per adapter: one running request of one adapter; the median step excludes load
    // steps
    obs.push({
      source: 'loading',
      decodes: 1,
      prefillTokens: 0,
      context: input + output / 2,
      adapters: 1,
      slots: 1,
      maxLoraRank: requireNum(r, 'srv_max_lora_rank', where),
      ms: requireNum(r, 'step_interval_median_ms', where) - (num(r, 'sched_time_mean_ms') ?? 0),
      baseModel: model,
    });
  }
  for (const r of perModel(tables.rows('loraOverhead'), model)) {
    if (r.srv_enable_lora !== 'True' || num(r, 'srv_max_loras') === null) continue;
    if (
      num(r, 'unique_adapters_mean') === null ||
      num(r, 'step_interval_mean_ms') === null ||
      num(r, 'json_completed') === null
    )
      continue;
    const where = `${tables.file('loraOverhead')} ${r.run_dir}`;
    const n = requireNum(r, 'json_completed', where);
    const input = requireNum(r, 'json_total_input_tokens', where) / n;
    const output = requireNum(r, 'json_total_output_tokens', where) / n;
    const stepMs = requireNum(r, 'step_interval_mean_ms', where);
    const steps = (requireNum(r, 'json_duration', where) * 1000) / stepMs;
    obs.push({
      source: 'loraOverhead',
      decodes: requireNum(r, 'npy_num_running_mean', where),
      prefillTokens: (n * input) / steps,
      context: input + output / 2,
      adapters: requireNum(r, 'unique_adapters_mean', where),
      slots: requireNum(r, 'srv_max_loras', where),
      maxLoraRank: num(r, 'srv_max_lora_rank') ?? 8,
      ms: stepMs - (num(r, 'sched_time_mean_ms') ?? 0),
      baseModel: model,
    });
  }
  if (tables.has('mixedLoad') && ctx.bases.has(ctx.mixedRunsModel)) {
    tables.rows('mixedLoad').forEach((r, i) => {
      const where = `${tables.file('mixedLoad')} row ${i + 2}`;
      // only runs with a queue: the engine never idles, so wall time / steps is the mean step time
      if (requireNum(r, 'avg_waiting_queue', where) < 1) return;
      const steps = requireNum(r, 'steps', where);
      const wallMs = requireNum(r, 'duration', where) * 1000;
      const ms =
        (wallMs -
          1000 * requireNum(r, 'total_scheduling_time', where) -
          1000 * requireNum(r, 'max_lora_loading_time', where)) /
        steps;
      const completed = requireNum(r, 'completed_requests', where);
      // the table records output tokens only; prompts follow the same shape, rescaled alike
      const scale = requireNum(r, 'processed_tokens', where) / Math.max(1, completed) / ctx.mixedShape.outputMean;
      const promptMean = ctx.mixedShape.promptMean * scale;
      obs.push({
        source: 'mixedLoad',
        decodes: requireNum(r, 'avg_batch_size', where),
        prefillTokens: (completed * promptMean) / steps,
        context: promptMean + ctx.mixedShape.outputContext * scale,
        adapters: requireNum(r, 'mean_loras_by_batch', where),
        slots: requireNum(r, 'gpu_loras', where),
        maxLoraRank: requireNum(r, 'rank', where),
        ms,
        baseModel: ctx.mixedRunsModel,
      });
    });
  }
  return obs;
}
