import { AppError } from '../../shared/errors.js';

const GiB = 2 ** 30;

/** One GPU model as the profile builder sees it. */
export interface GpuSpec {
  /** profile `gpu` name */
  name: string;
  description: string;
  /** total memory as CUDA reports it (torch.cuda.mem_get_info()[1]), which vLLM multiplies by gpu_memory_utilization */
  memoryBytes: number;
  /** peak HBM / GDDR bandwidth, bytes/s */
  bandwidth: number;
  /** dense tensor-core peaks, FLOP/s (fp8: 0 where the card has none) */
  bf16Flops: number;
  fp8Flops: number;
  interconnect: { kind: 'nvlink' | 'pcie'; bytesPerSecond: number };
  /**
   * aiconfigurator system whose kernel tables stand for this GPU, and how: `same` (the card measured), `scaled`
   * (the same die with other memory: memory-bound kernels scaled by bandwidth). Absent: roofline only.
   */
  kernels?: { system: string; relation: 'same' | 'scaled' };
  /**
   * LLMServingSim's hardware folder of per-layer vLLM profiles of this card (external/llmservingsim/profiles):
   * the kernels of a profiled model are read from them (layer-profile-costs.ts)
   */
  layerProfiles?: string;
  /** where the numbers come from */
  sources: string[];
}

const nvlink = (gbps: number) => ({ kind: 'nvlink' as const, bytesPerSecond: gbps * 1e9 });
const pcie = (gbps: number) => ({ kind: 'pcie' as const, bytesPerSecond: gbps * 1e9 });
const aic = (system: string) =>
  `../shared/data/operator-profiles/aiconfigurator/${system}/system_spec.yaml (bandwidth, peaks, interconnect)`;

const gpus: GpuSpec[] = [
  {
    name: 'h100-64gb',
    description: 'NVIDIA H100 SXM5 64 GB (MareNostrum 5 ACC: 4 GPUs per node on NVLink)',
    memoryBytes: 63.43 * GiB,
    // the GH100 die and clocks of the 80 GB SXM5 with 4 of its 5 HBM3 stacks: 4/5 of 3.35 TB/s
    bandwidth: 2.68e12,
    bf16Flops: 989e12,
    fp8Flops: 1978e12,
    interconnect: nvlink(450),
    kernels: { system: 'h100_sxm', relation: 'scaled' },
    sources: [
      'memory: "total_gpu_memory=63.43GiB" in the vLLM server logs of FerranAgulloLopez/vLLMBatchingMemoryGap ' +
        '(same cluster; nvidia-smi memory.total 65247 MiB)',
      'bandwidth: 4 of the 5 HBM3 stacks of the H100 SXM5 80 GB (3.35 TB/s x 4/5); compute and NVLink as the ' +
        '80 GB SXM5',
    ],
  },
  {
    name: 'h100-80gb',
    description: 'NVIDIA H100 SXM5 80 GB HBM3',
    memoryBytes: 79.18 * GiB,
    bandwidth: 3.35e12,
    bf16Flops: 989e12,
    fp8Flops: 1978e12,
    interconnect: nvlink(450),
    kernels: { system: 'h100_sxm', relation: 'same' },
    sources: [aic('h100_sxm'), 'memory: 79.18 GiB total reported by vLLM on H100 80GB (llm-d/llm-d-benchmark)'],
  },
  {
    name: 'h100-80gb-pcie',
    description: 'NVIDIA H100 PCIe 80 GB HBM2e',
    memoryBytes: 79.18 * GiB,
    bandwidth: 2.0e12,
    bf16Flops: 756e12,
    fp8Flops: 1513e12,
    interconnect: pcie(64),
    sources: ['NVIDIA H100 PCIe datasheet: 2.0 TB/s, 756 / 1,513 TFLOPS dense, PCIe Gen5 x16'],
  },
  {
    name: 'h200',
    description: 'NVIDIA H200 SXM 141 GB HBM3e',
    memoryBytes: 139.81 * GiB,
    bandwidth: 4.8e12,
    bf16Flops: 989e12,
    fp8Flops: 1978e12,
    interconnect: nvlink(450),
    kernels: { system: 'h200_sxm', relation: 'same' },
    sources: [aic('h200_sxm'), 'memory: 141 GB less the driver reserve, as the 80 GB cards (139.81 GiB)'],
  },
  {
    name: 'a100-80gb',
    description: 'NVIDIA A100 SXM4 80 GB',
    memoryBytes: 79.15 * GiB,
    bandwidth: 2.039e12,
    bf16Flops: 312e12,
    fp8Flops: 0,
    interconnect: nvlink(300),
    kernels: { system: 'a100_sxm', relation: 'same' },
    sources: [aic('a100_sxm'), 'memory: "total capacity of 79.15 GiB" (PyTorch on A100 80GB)'],
  },
  {
    name: 'a100-40gb',
    description: 'NVIDIA A100 SXM4 40 GB',
    memoryBytes: 39.39 * GiB,
    bandwidth: 1.555e12,
    bf16Flops: 312e12,
    fp8Flops: 0,
    interconnect: nvlink(300),
    sources: [
      'NVIDIA A100 datasheet: 1,555 GB/s, 312 TFLOPS bf16 dense, NVLink 600 GB/s',
      'memory: 39.39 GiB (PyTorch)',
    ],
  },
  {
    name: 'l40s',
    description: 'NVIDIA L40S 48 GB GDDR6',
    memoryBytes: 44.53 * GiB,
    bandwidth: 0.864e12,
    bf16Flops: 362.05e12,
    fp8Flops: 733e12,
    interconnect: pcie(32),
    kernels: { system: 'l40s', relation: 'same' },
    sources: [aic('l40s'), 'memory: "total capacity of 44.53 GiB" (PyTorch on L40S, vLLM issue logs)'],
  },
  {
    name: 'l4',
    description: 'NVIDIA L4 24 GB GDDR6',
    memoryBytes: 22.05 * GiB,
    bandwidth: 0.3e12,
    bf16Flops: 121e12,
    fp8Flops: 242.5e12,
    interconnect: pcie(32),
    sources: ['NVIDIA L4 datasheet: 300 GB/s, 121 / 242.5 TFLOPS dense, PCIe Gen4'],
  },
  {
    name: 'a10g',
    description: 'NVIDIA A10G 24 GB GDDR6 (AWS G5)',
    memoryBytes: 22.06 * GiB,
    bandwidth: 0.6e12,
    bf16Flops: 70e12,
    fp8Flops: 0,
    interconnect: pcie(32),
    sources: ['AWS G5 / NVIDIA A10G: 600 GB/s, about 70 TFLOPS bf16 dense (A10 at lower clocks), PCIe Gen4'],
  },
  {
    name: 'rtx-4090',
    layerProfiles: 'RTX4090',
    description: 'NVIDIA GeForce RTX 4090 24 GB GDDR6X',
    memoryBytes: 25250627584,
    bandwidth: 1.008e12,
    bf16Flops: 165.2e12,
    fp8Flops: 330.3e12,
    interconnect: pcie(32),
    sources: [
      'memory: device_total_memory_bytes of ../shared/data/external/llmservingsim/runs/RTX4090/Llama-3.1-8B/meta.json',
      'NVIDIA Ada whitepaper: 1,008 GB/s, 165.2 TFLOPS bf16 dense (fp16 accumulate), PCIe Gen4',
    ],
  },
  {
    name: 'rtx-pro-6000',
    layerProfiles: 'RTXPRO6000',
    description: 'NVIDIA RTX PRO 6000 Blackwell Server Edition 96 GB GDDR7',
    memoryBytes: 94.97 * GiB,
    bandwidth: 1.792e12,
    bf16Flops: 503.8e12,
    fp8Flops: 1007.6e12,
    interconnect: pcie(64),
    sources: ['NVIDIA RTX PRO 6000 Blackwell datasheet: 1,792 GB/s, PCIe Gen5; bf16 dense peak ~504 TFLOPS'],
  },
];

export function catalogGpus(): GpuSpec[] {
  return gpus.map((g) => ({ ...g }));
}

/** The GPU by profile name (h100-80gb, a100-80gb, ...), or bad input naming the field and the known names. */
export function catalogGpu(name: string, field = 'gpu'): GpuSpec {
  const found = gpus.find((g) => g.name === name.trim().toLowerCase());
  if (found) return { ...found };
  throw new AppError('invalidInput', `${field}: unknown GPU "${name}" (known: ${gpus.map((g) => g.name).join(', ')})`, {
    field,
    known: gpus.map((g) => g.name),
  });
}
