/**
 * Every command's help text, apart from the code that runs it: `lora-placer --help` and `<command> --help`
 * load this file only, never a command (src/cli.ts imports a command when it runs).
 */

export const simulateHelp =
  'simulate [FILE] [--workers N] [--pretty] [--profiles DIR]...   ' +
  `Scenario (object, array or JSONL; stdin when no FILE) -> SimulationResult

Answers in input order: one object for an object, one JSON line per scenario otherwise. A model is named
by its profile name or its Hugging Face id (meta-llama/Llama-3.1-8B-Instruct, any case).
  --workers N   worker threads for several scenarios (default: all cores)
  --profiles DIR   more profiles (<model>@<gpu>.json), after the embedded ones and PROFILES_DIR's
                (colon-separated); repeatable, a later directory overriding an earlier one
  --bench-out DIR   instead, write what stock vLLM would for the scenario's traffic (a vllm bench serve
                --save-detailed result, the serve log's KV line, a per-request CSV and a server file; one
                directory per scenario when several) for calibrate --bench; a server without --enable-lora:
                engine.enableLora false and baseModel traffic. docs/calibrate.md`;

export const predictHelp =
  'predict [FILE] [--pretty] [--profiles DIR]...   ' +
  `Scenario (object, array or JSONL; durationS and seed are ignored) -> Prediction

Answers from the distilled trees of models/predictors in microseconds: throughput, idealThroughput,
starvationProbability, starved, memoryError (from the profile's KV rule, never learned), itlMs, ttftMs.
A profile without predictors is answered by a short Twin run instead (tens of milliseconds; the seed is
used; "estimator": "twin" and "twinEstimate" say so).
  --profiles DIR   more profiles (<model>@<gpu>.json), after the embedded ones and PROFILES_DIR's
                (colon-separated); repeatable, a later directory overriding an earlier one`;

export const placeHelp =
  'place [FILE] [--workers N] [--pretty] [--profiles DIR]... [--output placement|manifests ...]   ' +
  `Workload (object, array or JSONL; stdin when no FILE) -> Placement

The fewest GPUs (or, with objective "min-latency", a spread over gpuCount GPUs), which adapters and
what share of their traffic on each, each GPU's --max-loras / --max-cpu-loras / --max-lora-rank and
full vllmArgs, a routing table, and the adapters that cannot be served (unplaced, with the reason).
With "verify": true every GPU is simulated by the Twin and repaired until none starves.
A profile without predictors is placed with short Twin runs instead of the trees (seconds to minutes:
"estimator": "twin" and "twinEstimate" say what it cost; the runs use options.verifySeed).
Work limits as in the service (MAX_SIMULATED_REQUESTS, MAX_SIMULATED_SECONDS, MAX_VERIFIED_REQUESTS,
MAX_GPUS in the environment; defaults in docs/service.md): a workload beyond them exits 2.
  --workers N   worker threads for verification (default: all cores)
  --quiet       no verification progress and no explanation on stderr (docs/cli.md, Progress)
  --profiles DIR   more profiles (<model>@<gpu>.json), after the embedded ones and PROFILES_DIR's
                (colon-separated); repeatable, a later directory overriding an earlier one
Exit status 3 (after the answer is written) when a placement leaves adapters unplaced (its "unplaced").
After each answer a few lines on stderr say why this many GPUs: the traffic placed, what binds each GPU
(and its headroom) and what fails on one GPU fewer (its "totals", "binding", "oneFewer"); --quiet silences them.
  --output manifests   YAML a cluster applies instead of the Placement: per engine setting a vLLM
                Deployment and Service, the routing ConfigMap (docs/manifests.md); with
                --pool NAME (default "pool", one workload only), --image REF, --model-id ID,
                --namespace NS, --adapter-claim PVC, --hf-token-secret SECRET[/KEY],
                --gateway none|inference-extension, --adapter-loading startup|dynamic (dynamic: adapters
                loaded at run time by a lora-syncer sidecar from a ConfigMap per group; --lora-syncer-image REF;
                --previous FILE, the placement the cluster runs now: adapters it loses are unloaded)`;

export const validateHelp =
  `validate --runs FILE [--reference FILE] [--gpu G] [--seed N] [--workers N] [--json FILE] [--profiles DIR]...
         [gates]
validate --vllm-run DIR --model M --gpu G [--profiles DIR]... [--kv-from-run] [--seed N] [--json FILE]
         [--max-makespan-error PCT] [--max-tpot-error PCT] [--max-ttft-error PCT]

Replays every run of a table in the format of dt_validation_real_runs.csv with the Twin and prints, per
model, memory-error agreement, SMAPE of throughput / TTFT / ITL (research and standard definitions),
starvation agreement, and the research twin's errors on the same runs; then the distilled predictors'
errors on the same runs (SMAPE, R2, starvation accuracy and macro-F1) beside the research predictors'.
  --reference FILE            research twin outputs (default: ` +
  `reference-twin-outputs/dt_validation_dt_outputs_mean_version.csv beside --runs)
  --max-throughput-smape PCT  exit 1 when a model's Twin throughput SMAPE (research definition) exceeds PCT
  --max-predictor-smape PCT   exit 1 when a model's predicted throughput SMAPE (research definition) exceeds PCT
  --min-starvation-f1 F       exit 1 when a model's predicted starvation macro-F1 is below F
  --profiles DIR              more profiles (after the embedded ones and PROFILES_DIR's); repeatable
  With --vllm-run: replays a plain vLLM run without LoRA from DIR/meta.json and DIR/requests.csv (or .jsonl;
LLMServingSim's format, docs/twin.md) on the profile M@G, and prints real and simulated time to finish,
throughput, TTFT and TPOT; the --max-*-error gates (percent of the real median) exit 1 when exceeded. The
replay's KV capacity is the profile's without LoRA, printed beside the one the run logged (--kv-from-run: the
logged one); run settings that differ from the profile's (max_model_len, max_num_seqs, max_num_batched_tokens,
gpu_memory_utilization, vLLM version) are named.`;

export const boundsHelp = `bounds calibrate --runs FILE [--score FILE] [--check] [--gpu G] [--seed N] [--workers N]
                 [--json FILE]

Fits the latency bounds (ttftP99UpperMs, itlP99UpperMs, ttftMeanUpperMs, worstAdapterTtftUpperMs of simulate,
predict and place): replays the runs at operator load (real mean TTFT under 10 s) of FILE
(ml_test_shared_real_runs.csv) with the Twin and asks the predictors, takes per estimator, model and load
regime the 90 % split-conformal factor on log(real / estimate), prints them with their leave-one-workload-out
coverage (and FILE2's with --score), and rewrites src/twin/latency-bound-factors.ts (docs/bounds.md).
  --check        write nothing; exit 1 when the committed factors differ from what the runs give
  --score FILE   real runs to score only (dt_validation_real_runs.csv)
  --json FILE    every run's estimates and real figures, and the factors
  --workers N    worker threads for the replays (default: all cores)`;

export const trainHelp =
  'train --model M --gpu G [--tp N] [--seed N] [--workloads N] [--runs FILE] [--dataset FILE] ' +
  `[--workers N | --queue URL] [--out DIR] [--created ISO] [--check] [--profiles DIR]...

Sweep (Twin runs of sampled workloads, resumable JSONL) -> teacher forests -> distilled student trees ->
models/predictors/<model>@<gpu>/ (<model>@<gpu>-tp<N>/ above one GPU per server) with metadata (dataset hash,
seed, features, hold-out and real-run errors).
  --tp N          the profile of N GPUs per server (default the smallest with a profile)
  --workloads N   workloads to simulate (default 8000)
  --runs FILE     real runs to score on, never trained on (e.g. dt_validation_real_runs.csv)
  --dataset FILE  sweep dataset to create or resume (default .cache/sweeps/<model>@<gpu>-seed<N>.jsonl)
  --check         retrain from a fresh dataset and compare byte for byte with the files in --out; exit 1 on a difference
  --profiles DIR  more profiles (after the embedded ones and PROFILES_DIR's); repeatable
  --teacher-trees N, --dense-samples N   smaller teachers and distillation sample for quick trials (defaults
                  100 and 100,000: the committed predictors' settings)
  --quiet         no sweep progress on stderr (docs/cli.md, Progress)
Where the sweep runs (the same rows and files either way):
  --workers N     worker threads of this process (default: all cores)
  --queue URL     the sweep queue on this Redis (redis:// or rediss://), taken by \`lora-placer worker\`
                  processes and by service replicas with SWEEP_WORKER=1 (docs/predictors.md, Distributed sweeps)
  --runner queue  the same with REDIS_URL (--runner local: threads, the default); REDIS_KEY_PREFIX as the service
  --batch-rows N  rows per queued job (default 8)
  --worker-wait-s S  fail when no worker is connected to the queue for S seconds (default 60)`;

export const workerHelp = `worker [--redis URL] [--concurrency N] [--lock-s S] [--quiet]   takes queued sweep jobs

Runs the sweep jobs that \`train --queue\` and the service's refreshes (REFRESH_SWEEPS=queue) put on the sweep
queue in Redis, until SIGTERM / SIGINT (the running jobs finish; a second signal exits at once). Jobs carry
their profile (checked against its sha256): a worker needs no profile files. A worker that dies has its jobs
taken again by another; no row is lost or counted twice (docs/predictors.md, Distributed sweeps).
  --redis URL       redis:// or rediss:// URL (default REDIS_URL); keys under REDIS_KEY_PREFIX, as the service
  --concurrency N   Twin threads, and jobs run at once (default: all cores)
  --lock-s S        a job's lock, renewed while it runs; a dead worker's jobs run again after about 2 x S (default 30)
  --quiet           no line per finished job (failures and start-up are still written on stderr)`;

export const calibrateHelp = `calibrate --data DIR --gpu NAME [--model M]... [--max-model-len M=N]... [--out DIR]
          | --bench FILE... (--profile MODEL@GPU | --from PROFILE.json) --out DIR [server flags]

Fits one profile per base model from measurement tables in the format of the research probes
(mem_max_table.csv, lat_model_base_latency_runs.csv, ... ; see README "Calibrating your own GPU")
and writes <out>/<model>@<gpu>.json (default out: the package's models/profiles).
  --mixed-runs-model M   base model of scheduler-overhead/*.csv (default: first model found)
  --check                compare with the existing files instead of writing; exit 1 on a difference

With --bench, refits a profile's step-model constants, LoRA per-adapter (and slot) costs and KV capacity to
what stock vLLM writes: vllm bench serve --save-result --save-detailed JSON, vllm serve logs ("GPU KV cache
size"), per-request CSVs, and server files naming a server's flags and runs (docs/calibrate.md). Prints the
residuals of every run before and after; exit 1, writing nothing, when the refit explains the runs worse.
  --profile MODEL@GPU | --from FILE   the profile to start from
  server flags for files no server file names: --max-loras N --max-lora-rank R --max-cpu-loras N
    --max-model-len N --max-num-seqs N --max-num-batched-tokens N --adapters NAME:RANK,...
    --lora-assignment random|round-robin
  --seed N                            seed of the replays (default 0)`;

export const profileHelp = `profile build --model M --gpu G --out DIR [--tp N] [--vllm-version V] [options]
profile build --shipped --out models/profiles [--check] [--data DIR]

Builds a profile from the model's architecture and the GPU's measured kernel tables (a roofline with fitted
efficiencies where ../shared has none) and writes <out>/<model>@<gpu>[-tp<N>].json (docs/profiles.md).
  --model M                      Hugging Face id (any case), short name (llama-3.1-8b-instruct) or config.json
  --gpu G                        h100-64gb, h100-80gb, h100-80gb-pcie, h200, a100-80gb, a100-40gb, l40s, l4,
                                 a10g, rtx-4090, rtx-pro-6000
  --tp N                         tensor-parallel GPUs per server (default 1)
  --vllm-version V               engine defaults and memory budget of that version (default 0.24.0)
  --dtype bf16|fp8               weights (default bf16); --kv-cache-dtype auto|fp8 (default auto)
  --gpu-memory-utilization F     default 0.9
  --max-model-len N              default: the model's max positions
  --max-num-batched-tokens N     default: the version's default for the GPU
  --max-num-seqs N               likewise
  --data DIR                     measured data (default ../shared/data)
  --check                        compare with the existing file instead of writing; exit 1 on a difference
  --shipped                      (re)build the 15 built profiles shipped in models/profiles (docs/profiles.md);
                                 with --check, also a built profile in --out that is not in the set is a difference`;

export const benchHelp =
  'bench twin|predict|place|estimator|drift|http|robustness|cli|sweeps [--repeats N] [--json]   ' +
  'benchmark tables: Twin speed, prediction cost, placement, the Twin estimator, re-placement under drift, HTTP ' +
  `service, hostile requests, CLI start-up, distributed sweeps
  --quiet                   no progress on stderr (place suite, --slo, drift; docs/cli.md, Progress)

bench place                 placement speed (100 to 10,000 adapters), then, when the traces are found
                            (--data DIR, default ../shared/data), the quality suite: every GPU verified by
                            the Twin, baselines at their fewest starvation-free GPU counts
  --quick                   one suite workload in four
  --speed-only              skip the suite
  --gpu G                   the speed cases on the (built) profiles of G with their predictors, no suite
  --workers N               Twin worker threads (default: all cores)
  --max-bound-ratio R       exit 1 unless median GPUs / lower bound <= R (CI)
  --min-saving F            exit 1 unless the median saving vs rate balancing >= F (CI)
  --slo                     the suite at equal SLO instead (p99 TTFT 1 s and 3 s, p99 ITL 200 ms): ours,
                            rate balancing (a slot per adapter, and the best over a --max-loras grid),
                            Dynamo-like, dLoRA-like, round robin, next-fit, all judged by the same Twin
                            criterion, ours re-simulated with fresh seeds; exit 1 when ours misses the SLO,
                            a GPU fails a fresh seed or ours needs more GPUs than the best balanced spread
  --best-known-s S          with --slo: seconds of Twin-driven search for fewer GPUs per workload and SLO
                            (default 120 in the full suite, 0 = off, the default with --quick)
  --slo-ttft-s LIST         with --slo: p99 TTFT targets in seconds (default 1,3; the default SLO is 2)
  --fresh-seeds N           with --slo: re-simulate ours with N seeds its verification never used (default
                            1); a GPU over on any counts

bench estimator             placement of 40 and 200 adapters (default SLO, research rule) with the
                            predictors, with the Twin estimator (a profile without predictors), and with it
                            and verify: time (median of --repeats, default 3 here), GPUs, Twin runs, and
                            every GPU re-simulated for an hour with a fresh seed (GPUs missing the criterion)
  --workers N               Twin worker threads for verification and the fresh-seed runs (default: all cores)

bench drift                 a day of drifting traffic from the Azure traces (--data DIR, default
                            ../shared/data), re-planned every 5 minutes: re-placement with few moves
                            (replan) against placement from scratch (place), GPUs over time, adapters
                            moved per re-plan, every plan re-simulated by the Twin; the issue's bars with
                            pass/fail; exit 1 when one fails (docs/replan.md)
  --quick                   64 adapters, one trace, 04:00 to 10:00 (under 3 minutes on 2 cores)
  --workers N               Twin worker threads (default: all cores)
  --hysteresis H            replan's hysteresis (default 0.1)
  --trace conv|code         one trace only (default both; --quick: conv)
  --until HH:MM             stop before the plan starting at HH:MM (the chain still starts at 00:00, or
                            04:00 with --quick, since each re-plan starts from the one before)

bench http                  the service (dist/main.js) and autocannon in separate processes: requests/s,
                            p50/p99 of /v1/predict and /v1/placements (100 adapters), idle and while a
                            model refresh runs (--repeats default 3 here)
  --duration S              seconds per measurement (default 10)
  --connections N           concurrent connections (default 50)

bench robustness            the service (dist/main.js) sent the hardening report's hostile requests one at a
                            time (status, answer size, worst /healthz latency, RSS), a broken MODELS_DIR, a
                            stalled body, 3,000 idle sockets, then autocannon on /v1/predict idle and with 8
                            of the largest allowed simulations / verified placements in flight
                            (--duration default 10, --repeats default 3 here)

bench cli                   start-up as child processes against bare node -e "": dist/cli.js --version,
                            profiles, a 10-second simulate (examples/scenario.json), place of 40 adapters
                            (examples/workload.json), and npm start and node dist/main.js until GET /readyz
                            answers 200; median, min, p90 of every case, rounds interleaved (--repeats default
                            15 here); exit 1 when --version is over 100 ms or the simulate over 200 ms slower
                            than bare node, or /readyz takes over 1500 ms from npm start (docs/cli.md)
  --baseline DIR            also another build (a package root after npm run build), in the same rounds

bench sweeps                the same Twin sweep on the sweep queue taken by 1, then by 2 \`lora-placer worker\`
                            processes side by side, rounds alternating the order (--repeats default 3 here),
                            on a redis-server of its own (or --redis URL); median, min, max seconds, rows/s,
                            speed-up; exit 1 when 2 workers are not 1.7x faster than 1 (needs 2 idle cores)
  --workloads N             workloads of the sweep (default 200)
  --batch-rows N            rows per queued job (default 4)
  --threads N               threads per worker process (default 1)`;

export const profilesHelp = `profiles [--json] [--profiles DIR]...   the model x GPU profiles and the predictors

The same entries as the service's GET /v1/profiles and GET /v1/models (without loadedAt): every profile of
models/profiles, PROFILES_DIR and --profiles with its Hugging Face id, source (calibrated, kernels, roofline,
refitted; measured on), vLLM version, tensor-parallel size, whether it has predictors (without them the
Twin answers, slower) and the file it came from; --json prints { "profiles": [...], "predictors": [...] }.
  --profiles DIR   more profiles (<model>@<gpu>.json), after the embedded ones and PROFILES_DIR's
                (colon-separated); repeatable, a later directory overriding an earlier one`;

export const serveHelp = `serve   start the HTTP service (same as npm start)`;
