/**
 * How much work one request may ask of the Twin and of placement. The service reads them from its
 * configuration (MAX_* variables); the CLI uses the same variables, and these defaults without them.
 * Every check that uses them answers 413 LP_ERR_TOO_MUCH_WORK naming the field and the setting.
 *
 * The defaults are sized from measurements on one core (docs/service.md, "Limits"): a simulation of
 * 2 million requests takes 1-5 s and about 300 MB; 20 million simulated requests of a verified
 * placement about half a minute.
 */
export interface WorkLimits {
  /** expected requests of one simulation (rates x durationS, or trace events) plus regime switches */
  maxSimulatedRequests: number;
  /** simulated seconds of one simulation: a Scenario's durationS, a Workload's options.verifyDurationS */
  maxSimulatedSeconds: number;
  /** expected requests a verified placement may simulate over all its Twin runs (repairs and descent included) */
  maxVerifiedRequests: number;
  /** GPUs a placement may open when the workload sets no maxGpus; also the largest maxGpus / gpuCount accepted */
  maxGpus: number;
}

export const defaultWorkLimits: Readonly<WorkLimits> = Object.freeze({
  maxSimulatedRequests: 2_000_000,
  maxSimulatedSeconds: 86_400,
  maxVerifiedRequests: 20_000_000,
  maxGpus: 1024,
});

/** No bounds: benchmarks and research scripts, which choose their own workloads. */
export const unlimitedWorkLimits: Readonly<WorkLimits> = Object.freeze({
  maxSimulatedRequests: Infinity,
  maxSimulatedSeconds: Infinity,
  maxVerifiedRequests: Infinity,
  maxGpus: Infinity,
});

/** The configuration variable of each limit (named in error messages, so an operator knows what to raise). */
export const workLimitSettings: Record<keyof WorkLimits, string> = {
  maxSimulatedRequests: 'MAX_SIMULATED_REQUESTS',
  maxSimulatedSeconds: 'MAX_SIMULATED_SECONDS',
  maxVerifiedRequests: 'MAX_VERIFIED_REQUESTS',
  maxGpus: 'MAX_GPUS',
};
