/**
 * The benchmarks calibration reads, whatever file they came from: servers (one `vllm serve` start each: its
 * flags, its adapters, the KV capacity its log reported) and the runs made against them (one
 * `vllm bench serve` or per-request CSV each).
 */

/** One LoRA adapter a server was started with (`--lora-modules`), and its rank. */
export interface ServedAdapter {
  id: string;
  rank: number;
}

export interface ServerSettings {
  /** names the server in messages: its server file, or "the command line" */
  name: string;
  /** null: started without --enable-lora */
  lora: {
    maxLoras: number;
    maxLoraRank: number;
    maxCpuLoras: number;
    adapters: ServedAdapter[];
  } | null;
  /** vLLM --max-model-len; null: the profile's */
  maxModelLen: number | null;
  /** null: the profile's engine default */
  maxNumSeqs: number | null;
  maxNumBatchedTokens: number | null;
  /** KV capacity the server's log reported, or null when no log was given */
  kvCacheTokens: number | null;
  /** the log it came from */
  logFile: string | null;
  vllmVersion: string | null;
}

/** One successful request of a run. Times in seconds from the run's first arrival. */
export interface MeasuredRequest {
  arrivalS: number;
  firstTokenS: number;
  lastTokenS: number;
  /** arrival of every streamed chunk (tokenTimes[0] = firstTokenS); null when only first and last are known */
  tokenTimes: Float64Array | null;
  input: number;
  output: number;
  /** index in server.lora.adapters; -1 for the base model; null when not recorded (random assignment) */
  adapter: number | null;
}

export interface BenchRun {
  /** the file that names the run in messages */
  name: string;
  /** every file the run was read from */
  files: string[];
  server: ServerSettings;
  /** successful requests in the order they were sent */
  requests: MeasuredRequest[];
  /** requests that failed (vLLM's `errors`) */
  failed: number;
}

/** Servers and their runs, as read from the bench files. */
export interface BenchData {
  servers: ServerSettings[];
  runs: BenchRun[];
  /** every file read */
  files: string[];
}
