import { basename, dirname, extname, join, resolve } from 'node:path';
import { AppError } from '../shared/errors.js';
import { allowedMaxLoraRanks } from '../twin/index.js';
import type { BenchData, BenchRun, MeasuredRequest, ServedAdapter, ServerSettings } from './bench-run.js';
import { parseDocument, readJsonDocument, readText, type JsonDocument } from './json-document.js';
import { parseRequestCsv, type CsvRequest } from './request-csv.js';
import { ServerFile } from './server-file.js';
import { parseServeLog } from './serve-log.js';
import { parseVllmBenchResult, succeeded, type VllmBenchResult } from './vllm-bench-result.js';

/** The server flags given on the command line, for bench files no server file names. */
export interface CommandLineServer {
  maxLoras?: number;
  maxLoraRank?: number;
  maxCpuLoras?: number;
  maxModelLen?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  adapters?: ServedAdapter[];
  loraAssignment?: 'round-robin' | 'random';
}

type LoraAssignment = 'round-robin' | 'random';

/**
 * Reads bench files of any kind: server files (`{"vllmServe": ..., "runs": [...]}`, which name their runs and
 * log), `vllm bench serve` results (.json), per-request CSVs (.csv) and `vllm serve` logs (anything else).
 * Files no server file names belong to one server described by `flags`; a result and a CSV with the same
 * name (rate4.json, rate4.csv) are one run.
 */
export function loadBench(files: readonly string[], flags: CommandLineServer = {}): BenchData {
  const servers: ServerSettings[] = [];
  const runs: BenchRun[] = [];
  const read = new Set<string>();
  const loose = { results: [] as JsonDocument[], csvs: [] as string[], logs: [] as string[] };
  for (const file of files) {
    const ext = extname(file).toLowerCase();
    if (ext === '.csv') loose.csvs.push(file);
    else if (ext === '.json') {
      const doc = readJsonDocument(file);
      read.add(file);
      if (isServerFile(doc.value)) {
        const { server, serverRuns } = readServerFile(doc, read);
        servers.push(server);
        runs.push(...serverRuns);
      } else loose.results.push(doc);
    } else loose.logs.push(file);
  }
  if (loose.results.length + loose.csvs.length > 0) {
    const server = commandLineServer(flags, loose.logs);
    servers.push(server);
    runs.push(...looseRuns(loose.results, loose.csvs, server, flags.loraAssignment ?? 'random'));
    for (const f of [...loose.csvs, ...loose.logs]) read.add(f);
  } else if (loose.logs.length > 0) {
    throw new AppError(
      'invalidInput',
      `${loose.logs[0]}: a log without benchmarks: give the runs made against that server too (or a server file)`,
      { file: loose.logs[0] },
    );
  }
  if (runs.length === 0) throw new AppError('invalidInput', 'calibrate --bench: no benchmark run among the files');
  return { servers, runs, files: [...read] };
}

function isServerFile(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'vllmServe' in value;
}

function readServerFile(doc: JsonDocument, read: Set<string>): { server: ServerSettings; serverRuns: BenchRun[] } {
  const parsed = parseDocument(ServerFile, doc, 'server file');
  const s = parsed.vllmServe;
  const at = (p: string): string => join(dirname(doc.file), p);
  const logFile = s.log === undefined ? null : at(s.log);
  if (logFile) read.add(logFile);
  const server = settings(
    doc.file,
    {
      ...(s.maxLoras !== undefined ? { maxLoras: s.maxLoras } : {}),
      ...(s.maxLoraRank !== undefined ? { maxLoraRank: s.maxLoraRank } : {}),
      ...(s.maxCpuLoras !== undefined ? { maxCpuLoras: s.maxCpuLoras } : {}),
      ...(s.maxModelLen !== undefined ? { maxModelLen: s.maxModelLen } : {}),
      ...(s.maxNumSeqs !== undefined ? { maxNumSeqs: s.maxNumSeqs } : {}),
      ...(s.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: s.maxNumBatchedTokens } : {}),
      adapters: s.loraModules.map((m) => ({ id: m.name, rank: m.rank })),
    },
    logFile ? [logFile] : [],
    s.vllmVersion ?? null,
    'vllmServe.',
  );
  const serverRuns = parsed.runs.map((r) => {
    const result = r.result === undefined ? null : readJsonDocument(at(r.result));
    const csv = r.requests === undefined ? null : at(r.requests);
    for (const f of [result?.file, csv]) if (f) read.add(f);
    return readRun(result, csv, server, r.loraAssignment ?? 'random');
  });
  return { server, serverRuns };
}

function commandLineServer(flags: CommandLineServer, logs: string[]): ServerSettings {
  return settings('the command line', flags, logs, null, '--');
}

/** Server settings with vLLM's own checks; `prefix` names fields as the user wrote them (--x or vllmServe.x). */
function settings(
  name: string,
  flags: CommandLineServer,
  logs: string[],
  vllmVersion: string | null,
  prefix: string,
): ServerSettings {
  const field = (camel: string): string =>
    prefix === '--' ? `--${camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `${prefix}${camel}`;
  const adapters = flags.adapters ?? [];
  let lora: ServerSettings['lora'] = null;
  if (adapters.length > 0) {
    if (flags.maxLoras === undefined)
      throw new AppError('invalidInput', `${name}: ${field('maxLoras')}: required with LoRA adapters`);
    const top = Math.max(...adapters.map((a) => a.rank));
    const maxLoraRank = flags.maxLoraRank ?? allowedMaxLoraRanks.find((r) => r >= top) ?? 512;
    const maxCpuLoras = flags.maxCpuLoras ?? Math.max(adapters.length, flags.maxLoras);
    if (maxCpuLoras < flags.maxLoras)
      throw new AppError('invalidInput', `${name}: ${field('maxCpuLoras')}: below --max-loras, vLLM refuses that`);
    lora = { maxLoras: flags.maxLoras, maxLoraRank, maxCpuLoras, adapters };
  } else if (flags.maxLoras !== undefined || flags.maxLoraRank !== undefined) {
    throw new AppError(
      'invalidInput',
      `${name}: ${field(flags.maxLoras !== undefined ? 'maxLoras' : 'maxLoraRank')}: given without the adapters ` +
        `the server loaded (${prefix === '--' ? '--adapters NAME:RANK,...' : 'vllmServe.loraModules'})`,
    );
  }
  if (flags.maxNumSeqs !== undefined && flags.maxNumBatchedTokens !== undefined) {
    if (flags.maxNumSeqs > flags.maxNumBatchedTokens)
      throw new AppError(
        'invalidInput',
        `${name}: ${field('maxNumSeqs')}: above --max-num-batched-tokens, vLLM refuses that`,
      );
  }
  let kv: { tokens: number; file: string } | null = null;
  for (const file of logs) {
    const found = parseServeLog(readText(file), file);
    if (kv && kv.tokens !== found.tokens)
      throw new AppError(
        'invalidInput',
        `${file}:${found.line}: KV cache of ${found.tokens} tokens, but ${kv.file} says ${kv.tokens}: one server, ` +
          'one capacity (give each server its own server file)',
        { file, line: found.line },
      );
    kv ??= { tokens: found.tokens, file };
  }
  return {
    name,
    lora,
    maxModelLen: flags.maxModelLen ?? null,
    maxNumSeqs: flags.maxNumSeqs ?? null,
    maxNumBatchedTokens: flags.maxNumBatchedTokens ?? null,
    kvCacheTokens: kv?.tokens ?? null,
    logFile: kv?.file ?? null,
    vllmVersion,
  };
}

function looseRuns(
  results: JsonDocument[],
  csvs: string[],
  server: ServerSettings,
  assignment: LoraAssignment,
): BenchRun[] {
  const stem = (f: string): string => resolve(dirname(f), basename(f, extname(f)));
  const csvByStem = new Map(csvs.map((f) => [stem(f), f]));
  const runs = results.map((doc) => {
    const csv = csvByStem.get(stem(doc.file)) ?? null;
    if (csv) csvByStem.delete(stem(doc.file));
    return readRun(doc, csv, server, assignment);
  });
  for (const csv of csvByStem.values()) runs.push(readRun(null, csv, server, assignment));
  return runs;
}

/** One run from its bench result, its per-request CSV, or both (the CSV then gives adapters and arrivals). */
function readRun(
  doc: JsonDocument | null,
  csvFile: string | null,
  server: ServerSettings,
  assignment: LoraAssignment,
): BenchRun {
  const csv = csvFile ? parseRequestCsv(readText(csvFile), csvFile) : null;
  const files = [doc?.file, csvFile].filter((f): f is string => f !== undefined && f !== null);
  if (doc) {
    const result = parseVllmBenchResult(doc);
    return fromResult(result, doc.file, csv, csvFile, server, assignment, files);
  }
  return fromCsv(csv!, csvFile!, server, files);
}

function fromResult(
  r: VllmBenchResult,
  file: string,
  csv: CsvRequest[] | null,
  csvFile: string | null,
  server: ServerSettings,
  assignment: LoraAssignment,
  files: string[],
): BenchRun {
  const ok = r.ttfts.map((_, i) => i).filter((i) => succeeded(r, i));
  if (ok.length === 0) throw new AppError('invalidInput', `${file}: no successful request (see its "errors")`);
  if (csv && csv.length !== ok.length)
    throw new AppError(
      'invalidInput',
      `${csvFile}: ${csv.length} requests, but ${file} has ${ok.length} successful ones: not the same run`,
      { file: csvFile },
    );
  if (!r.start_times && !csv)
    throw new AppError(
      'invalidInput',
      `${file}: no "start_times" (older vllm bench serve): give the run's per-request CSV beside it, or rerun ` +
        'with a current vLLM',
      { file, field: 'start_times' },
    );
  const origin = r.start_times ? minOf(ok.map((i) => r.start_times![i]!)) : 0;
  const csvOrigin = csv ? minOf(csv.map((c) => c.arrivalS)) : 0;
  const requests = ok.map((i, k): MeasuredRequest => {
    const row = csv?.[k];
    if (row && row.input !== r.input_lens[i])
      throw new AppError(
        'invalidInput',
        `${csvFile}:${row.line}: column input_tokens: ${row.input}, but request ${i} of ${file} has ` +
          `${r.input_lens[i]} (input_lens): not the same run, or not in the same order`,
        { file: csvFile, line: row.line, field: 'input_tokens' },
      );
    const arrivalS = r.start_times ? r.start_times[i]! - origin : row!.arrivalS - csvOrigin;
    const itls = r.itls[i]!;
    const tokenTimes = new Float64Array(itls.length + 1);
    tokenTimes[0] = arrivalS + r.ttfts[i]!;
    for (let k2 = 0; k2 < itls.length; k2++) tokenTimes[k2 + 1] = tokenTimes[k2]! + itls[k2]!;
    const adapter = row
      ? adapterOf(row, server, csvFile!)
      : server.lora === null
        ? -1
        : assignment === 'round-robin'
          ? i % server.lora.adapters.length
          : null;
    return {
      arrivalS,
      firstTokenS: tokenTimes[0]!,
      lastTokenS: tokenTimes[itls.length]!,
      tokenTimes,
      input: r.input_lens[i]!,
      output: r.output_lens[i]!,
      adapter,
    };
  });
  return { name: file, files, server, requests, failed: r.ttfts.length - ok.length };
}

function fromCsv(csv: CsvRequest[], file: string, server: ServerSettings, files: string[]): BenchRun {
  const origin = minOf(csv.map((c) => c.arrivalS));
  const requests = csv
    .map(
      (row): MeasuredRequest => ({
        arrivalS: row.arrivalS - origin,
        firstTokenS: row.firstTokenS - origin,
        lastTokenS: row.lastTokenS - origin,
        tokenTimes: null,
        input: row.input,
        output: row.output,
        adapter: adapterOf(row, server, file),
      }),
    )
    .sort((a, b) => a.arrivalS - b.arrivalS);
  return { name: file, files, server, requests, failed: 0 };
}

function adapterOf(row: CsvRequest, server: ServerSettings, file: string): number {
  const where = { file, line: row.line, field: 'adapter' };
  if (server.lora === null) {
    if (row.adapter === null) return -1;
    throw new AppError(
      'invalidInput',
      `${file}:${row.line}: column adapter: ${JSON.stringify(row.adapter)}, but ${server.name} serves no LoRA ` +
        'adapters (give them with the server flags)',
      where,
    );
  }
  if (row.adapter === null)
    throw new AppError(
      'invalidInput',
      `${file}:${row.line}: column adapter: empty: requests to the base model of a server with --enable-lora are ` +
        'not simulated',
      where,
    );
  const index = server.lora.adapters.findIndex((a) => a.id === row.adapter);
  if (index < 0)
    throw new AppError(
      'invalidInput',
      `${file}:${row.line}: column adapter: ${JSON.stringify(row.adapter)} is not among the adapters of ` +
        `${server.name}`,
      where,
    );
  return index;
}

/** Smallest value (no spread: a run may hold more requests than a call takes arguments). */
function minOf(values: number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}
