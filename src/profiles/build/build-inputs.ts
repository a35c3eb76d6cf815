import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { sourceOf, type Profile } from '../schema.js';
import type { BuildInputs } from './build-profile.js';
import { catalogGpu, type GpuSpec } from './gpu-catalog.js';
import { type KernelCosts, rooflineCosts, tableCosts } from './kernel-costs.js';
import { readKernelTables } from './kernel-table-files.js';
import { layerProfileCosts, layerProfileDir } from './layer-profile-costs.js';
import type { ModelArchitecture } from './model-architecture.js';
import { catalogModel, findCatalogModel } from './model-catalog.js';
import { architectureFromConfig } from './model-config.js';

/** The catalog GPU each aiconfigurator system was measured on. */
const systemGpu: Record<string, string> = {
  h100_sxm: 'h100-80gb',
  h200_sxm: 'h200',
  a100_sxm: 'a100-80gb',
  l40s: 'l40s',
};

/** A model by Hugging Face id or short name from the catalog, or from a config.json path. */
export function resolveModel(spec: string): ModelArchitecture {
  const known = findCatalogModel(spec);
  if (known) return known;
  if (spec.endsWith('.json') || existsSync(spec)) {
    const file = resolve(spec);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new AppError('invalidInput', `model: cannot read config.json ${spec}: ${(err as Error).message}`);
    }
    const name = basename(dirname(file)).replace(/[^A-Za-z0-9._-]/g, '-') || 'model';
    return architectureFromConfig(raw, `local/${name}`, spec);
  }
  return catalogModel(spec);
}

/** Kernel costs of `gpu` at `version`: its tables (or a same-die card's, scaled) under `dataDir`, else the roofline. */
export function gpuCosts(
  gpu: GpuSpec,
  dataDir: string,
  version: string,
  kvCacheDtype: 'auto' | 'fp8',
): { costs: KernelCosts; kind: 'kernels' | 'roofline'; data: string[]; tableVersion?: string } {
  const system = gpu.kernels?.system;
  if (!system || !existsSync(`${dataDir}/operator-profiles/aiconfigurator/${system}`)) {
    return { costs: rooflineCosts(gpu), kind: 'roofline', data: [] };
  }
  const tables = readKernelTables(dataDir, system, version, kvCacheDtype);
  const measuredOn = catalogGpu(systemGpu[system] ?? gpu.name);
  return {
    costs: tableCosts(tables, gpu, measuredOn),
    kind: 'kernels',
    data: tables.files,
    tableVersion: tables.vllmVersion,
  };
}

/**
 * The target's costs with the kernels of a model LLMServingSim profiled on this card read from its layer profile
 * (the same architecture under its base or -Instruct id: the profiles run dummy weights).
 */
function withLayerProfile(
  target: ReturnType<typeof gpuCosts>,
  { gpu, model, dataDir }: { gpu: GpuSpec; model: ModelArchitecture; dataDir: string },
): ReturnType<typeof gpuCosts> {
  if (!gpu.layerProfiles) return target;
  const base = { ...model, hfModelId: model.hfModelId.replace(/-Instruct$/, '') };
  const dir = layerProfileDir(dataDir, gpu.layerProfiles, model) ?? layerProfileDir(dataDir, gpu.layerProfiles, base);
  if (!dir) return target;
  const files = ['dense.csv', 'per_sequence.csv', 'attention.csv'].map((f) => join(dir, f));
  return {
    ...target,
    costs: layerProfileCosts(dir, model, target.costs),
    kind: 'kernels',
    data: [...target.data, ...files],
  };
}

/** The calibrated profile whose LoRA and CPU-side terms a build of `m` carries: the same model, else its family. */
function carriedProfile(m: ModelArchitecture, calibrated: Profile[]): Profile {
  const same = calibrated.find((p) => p.model === m.name);
  if (same) return same;
  const family = m.architecture.startsWith('Qwen') ? 'qwen' : 'llama';
  const byFamily = calibrated.find((p) => p.model.startsWith(family)) ?? calibrated[0];
  if (!byFamily) throw new AppError('dataFile', 'no calibrated profile to carry LoRA and scheduler terms from');
  return byFamily;
}

/**
 * Everything `buildProfile` needs for `model` on `gpuName`: the architecture, the target's kernel costs, the
 * calibrated profile the LoRA / scheduler / loading / frontend terms come from and the calibrated profiles of
 * OTHER models the CPU overhead comes from, with the kernel costs of the card they were calibrated on.
 */
export function buildInputs(
  modelSpec: string,
  gpuName: string,
  options: { dataDir: string; vllmVersion: string; kvCacheDtype: 'auto' | 'fp8'; profiles: Profile[] },
): BuildInputs {
  const model = resolveModel(modelSpec);
  const gpu = catalogGpu(gpuName);
  const target = withLayerProfile(gpuCosts(gpu, options.dataDir, options.vllmVersion, options.kvCacheDtype), {
    gpu,
    model,
    dataDir: options.dataDir,
  });
  const calibrated = options.profiles.filter((p) => sourceOf(p).kind === 'calibrated');
  const carried = carriedProfile(model, calibrated);
  const calibratedGpu = catalogGpu(carried.gpu);
  const carriedCosts =
    calibratedGpu.name === gpu.name
      ? target.costs
      : gpuCosts(calibratedGpu, options.dataDir, carried.vllmVersion, 'auto').costs;
  const donors = calibrated
    .filter((p) => p.model !== model.name && p.gpu === carried.gpu)
    .map((p) => ({ profile: p, model: catalogModel(p.model), costs: carriedCosts }));
  return {
    model,
    gpu,
    costs: target.costs,
    kind: target.kind,
    data: target.data,
    ...(target.tableVersion ? { tableVersion: target.tableVersion } : {}),
    carried: { profile: carried, model: catalogModel(carried.model), costs: carriedCosts },
    overheadDonors: donors,
  };
}
