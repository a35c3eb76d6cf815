import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { CsvRow } from '../../shared/csv.js';
import { AppError } from '../../shared/errors.js';
import type { AllReducePoint, AttentionPoint, GemmPoint, KernelTables } from './kernel-tables.js';
import { versionParts } from './vllm-version.js';

/**
 * Reads aiconfigurator's vLLM kernel tables of one system (`<data>/operator-profiles/aiconfigurator/<system>/
 * vllm-<version>/`) for the version nearest to `vllmVersion`, keeping the bf16 rows of the kernel vLLM runs by
 * default: GEMMs of torch's linear (0.14: `vllm_default`), FlashAttention (FA3 on Hopper at 0.24, FA2 on L40S)
 * with a bf16 KV cache (fp8 with kvCacheDtype fp8) and full attention, vLLM's custom all-reduce under CUDA graphs.
 */
export function readKernelTables(
  dataDir: string,
  system: string,
  vllmVersion: string,
  kvCacheDtype: 'auto' | 'fp8' = 'auto',
): KernelTables {
  const root = join(dataDir, 'operator-profiles', 'aiconfigurator', system);
  if (!existsSync(root)) throw new AppError('dataFile', `no kernel tables for ${system} under ${root}`);
  const versions = readdirSync(root)
    .filter((d) => d.startsWith('vllm-'))
    .map((d) => d.slice(5));
  if (versions.length === 0) throw new AppError('dataFile', `no vllm-<version> tables under ${root}`);
  const version = nearestVersion(versions, vllmVersion);
  const dir = join(root, `vllm-${version}`);
  const file = (name: string): string => {
    const plain = join(dir, `${name}.csv`);
    if (existsSync(plain)) return plain;
    if (existsSync(`${plain}.gz`)) return `${plain}.gz`;
    // L40S has no 0.24.0 all-reduce table; its 0.14.0 one is the same file (data README)
    const fallback = join(root, 'vllm-0.14.0', `${name}.csv`);
    if (existsSync(fallback)) return fallback;
    throw new AppError('dataFile', `missing ${name}.csv under ${dir}`);
  };
  const files = ['gemm_perf', 'generation_attention_perf', 'context_attention_perf', 'custom_allreduce_perf'].map(file);
  const [gemmFile, decodeFile, prefillFile, allReduceFile] = files as [string, string, string, string];
  const kvDtype = kvCacheDtype === 'fp8' ? 'fp8' : 'bfloat16';
  return {
    system,
    vllmVersion: version,
    files,
    gemm: gemmRows(readTable(gemmFile, (line) => line.includes(',bfloat16,') || line.includes(',bf16,'))),
    decodeAttention: attentionRows(
      readTable(decodeFile, (line) => line.includes(`,${kvDtype},`)),
      kvDtype,
      'step',
    ),
    prefillAttention: attentionRows(
      readTable(prefillFile, (line) => line.includes(`,${kvDtype},`)),
      kvDtype,
      'isl',
    ),
    allReduce: readTable(allReduceFile, (line) => line.includes('vllm_graph'))
      .filter((r) => r.backend === 'vllm_graph' && r.allreduce_dtype === 'bfloat16')
      .map((r): AllReducePoint => ({ gpus: Number(r.num_gpus), bytes: Number(r.message_size), ms: Number(r.latency) })),
  };
}

/** The table version closest to the asked one (by minor version, then patch). */
export function nearestVersion(available: string[], wanted: string): string {
  const [, wMinor, wPatch] = versionParts(wanted);
  const score = (v: string): number => {
    const [, minor, patch] = versionParts(v);
    return Math.abs(minor - wMinor) * 1000 + Math.abs(patch - wPatch);
  };
  return [...available].sort((a, b) => score(a) - score(b) || a.localeCompare(b))[0] as string;
}

const gemmKernels = ['torch.nn.functional.linear', 'vllm_default'];

function gemmRows(rows: CsvRow[]): GemmPoint[] {
  const bf16 = rows.filter((r) => r.gemm_dtype === 'bfloat16' || r.gemm_dtype === 'bf16');
  const kernel = gemmKernels.find((k) => bf16.some((r) => r.kernel_source === k));
  return bf16
    .filter((r) => kernel === undefined || r.kernel_source === kernel)
    .map((r) => ({ m: Number(r.m), n: Number(r.n), k: Number(r.k), ms: Number(r.latency) }));
}

const attentionKernels = [
  'vllm_flash_attn_fa3',
  'vllm_flash_attn_fa2',
  'vllm_flash_attn',
  'vllm_flashinfer_fidecode',
  'vllm_flashinfer_fiprefill',
  'vllm_flashinfer',
  'vllm_triton_attn',
];

function attentionRows(rows: CsvRow[], kvDtype: string, lengthColumn: 'step' | 'isl'): AttentionPoint[] {
  const usable = rows.filter(
    (r) =>
      r.kv_cache_dtype === kvDtype &&
      r.head_dim === '128' &&
      (r.window_size === undefined || r.window_size === '' || r.window_size === '0'),
  );
  const kernel = attentionKernels.find((k) => usable.some((r) => r.kernel_source === k));
  return usable
    .filter((r) => r.kernel_source === kernel)
    .map((r) => ({
      batch: Number(r.batch_size),
      // decode rows hold `step` tokens of history; the new token attends to step + 1
      length: Number(r[lengthColumn]) + (lengthColumn === 'step' ? 1 : 0),
      heads: Number(r.num_heads),
      kvHeads: Number(r.num_key_value_heads),
      ms: Number(r.latency),
    }));
}

/**
 * Rows of a kernel table (plain or .gz; unquoted fields, as aiconfigurator writes them) whose raw line passes
 * `keep`: filtering lines before splitting them keeps `profile build` within its time on the 100,000-row tables.
 */
function readTable(file: string, keep: (line: string) => boolean): CsvRow[] {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new AppError('dataFile', `cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
  const header = (lines[0] ?? '').trim().split(',');
  const rows: CsvRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '' || !keep(line)) continue;
    const fields = line.trim().split(',');
    const row: CsvRow = {};
    header.forEach((name, j) => {
      row[name] = fields[j] ?? '';
    });
    rows.push(row);
  }
  return rows;
}
