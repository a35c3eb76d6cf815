import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { freePort } from '../shared/free-port.js';
import { quantileSorted } from '../shared/stats.js';

/**
 * `bench cli`: how long the CLI and the service take to start, as child processes, against bare
 * `node -e ""` measured in the same rounds. Every round runs every case once, in an order rotated each
 * round, so the machine's noise hits all cases alike; one untimed round first warms the file cache.
 */

/** A build of lora-placer: a package root holding package.json and dist/ (`npm run build`). */
export interface CliBuild {
  label: string;
  root: string;
  /** `git rev-parse --short HEAD` of the root (+dirty with uncommitted changes), or null outside git */
  commit: string | null;
}

export interface CliBenchOptions {
  repeats: number;
  /** the builds measured, interleaved; the bars apply to the first */
  builds: CliBuild[];
  /** directory of scenario.json (run with durationS 10) and workload.json (40 adapters) */
  examplesDir: string;
}

export interface CliBenchRow {
  /** the case, e.g. "--version" */
  name: string;
  /** the build's label, null for bare node */
  build: string | null;
  /** what was run */
  command: string;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  /** median minus bare node's median */
  vsBareMs: number;
  samplesMs: number[];
}

export interface CliBar {
  name: string;
  /** the row the bar reads */
  row: string;
  /** 'vs bare': the row's median minus bare node's; 'absolute': the row's median */
  measure: 'vs bare' | 'absolute';
  limitMs: number;
  valueMs: number;
  met: boolean;
}

export interface CliBenchResult {
  repeats: number;
  builds: CliBuild[];
  rows: CliBenchRow[];
  bars: CliBar[];
}

/** The bars of issue 22, checked on the first build. */
export const cliBarSpecs: readonly Omit<CliBar, 'valueMs' | 'met'>[] = [
  { name: '--version within 100 ms of bare node', row: '--version', measure: 'vs bare', limitMs: 100 },
  { name: '10-second simulate within 200 ms of bare node', row: 'simulate 10 s', measure: 'vs bare', limitMs: 200 },
  { name: '/readyz within 1500 ms of npm start', row: 'npm start -> /readyz', measure: 'absolute', limitMs: 1500 },
];

export const bareName = 'node -e ""';

interface Case {
  name: string;
  /** null: bare node, run once per round whatever the builds */
  build: CliBuild | null;
  command: string;
  args: string[];
  cwd: string;
  /** 'exit': spawn to exit (status 0); 'ready': spawn to the first 200 of GET /readyz, then the process group ends */
  until: 'exit' | 'ready';
}

/** The package root this module belongs to (src/bench or dist/bench: two levels up). */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** A build at `root`, refused unless it has package.json and a built dist/cli.js and dist/main.js. */
export function cliBuild(label: string, root: string): CliBuild {
  const abs = resolve(root);
  for (const f of ['package.json', 'dist/cli.js', 'dist/main.js'])
    if (!existsSync(join(abs, f)))
      throw new AppError('invalidInput', `bench cli: ${join(abs, f)} not found (a package root after npm run build)`);
  const git = (args: string[]): string | null => {
    const r = spawnSync('git', ['-C', abs, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = head !== null && (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  return { label, root: abs, commit: head === null ? null : `${head}${dirty ? '+dirty' : ''}` };
}

function casesOf(builds: CliBuild[], scenarioFile: string, workloadFile: string): Case[] {
  const cases: Case[] = [
    { name: bareName, build: null, command: bareName, args: ['-e', ''], cwd: process.cwd(), until: 'exit' },
  ];
  for (const b of builds) {
    const cli = join(b.root, 'dist', 'cli.js');
    const run = (name: string, args: string[], command: string): Case => ({
      name,
      build: b,
      command,
      args: [cli, ...args],
      cwd: b.root,
      until: 'exit',
    });
    cases.push(
      run('--version', ['--version'], 'lora-placer --version'),
      run('profiles', ['profiles'], 'lora-placer profiles'),
      run('simulate 10 s', ['simulate', scenarioFile], 'lora-placer simulate (examples/scenario.json, durationS 10)'),
      run('place 40 adapters', ['place', workloadFile], 'lora-placer place examples/workload.json'),
      { name: 'npm start -> /readyz', build: b, command: 'npm start', args: ['start'], cwd: b.root, until: 'ready' },
      {
        name: 'node dist/main.js -> /readyz',
        build: b,
        command: 'node dist/main.js',
        args: [join(b.root, 'dist', 'main.js')],
        cwd: b.root,
        until: 'ready',
      },
    );
  }
  return cases;
}

/** Runs every case `repeats` times, interleaved, and answers the table and the bars. */
export async function benchCli(o: CliBenchOptions): Promise<CliBenchResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'lora-placer-bench-cli-'));
  try {
    const scenario = JSON.parse(readFileSync(join(o.examplesDir, 'scenario.json'), 'utf8')) as Record<string, unknown>;
    const scenarioFile = join(scratch, 'scenario-10s.json');
    writeFileSync(scenarioFile, JSON.stringify({ ...scenario, durationS: 10 }));
    const cases = casesOf(o.builds, scenarioFile, join(o.examplesDir, 'workload.json'));
    const samples = cases.map((): number[] => []);
    for (let round = -1; round < o.repeats; round++) {
      for (let k = 0; k < cases.length; k++) {
        const i = (k + Math.max(round, 0)) % cases.length;
        const ms = await runCase(cases[i]!);
        if (round >= 0) samples[i]!.push(ms);
      }
    }
    const rows = summarizeCli(
      cases.map((c, i) => ({
        name: c.name,
        build: c.build?.label ?? null,
        command: c.command,
        samplesMs: samples[i]!,
      })),
    );
    return { repeats: o.repeats, builds: o.builds, rows, bars: cliBars(rows, o.builds[0]?.label ?? null) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Median, min, p90 of each case's samples, and its median minus bare node's. */
export function summarizeCli(
  cases: { name: string; build: string | null; command: string; samplesMs: number[] }[],
): CliBenchRow[] {
  const median = (xs: number[]): number =>
    quantileSorted(
      [...xs].sort((a, b) => a - b),
      0.5,
    );
  const bare = cases.find((c) => c.name === bareName);
  const bareMedian = bare ? median(bare.samplesMs) : Number.NaN;
  return cases.map((c) => {
    const sorted = [...c.samplesMs].sort((a, b) => a - b);
    const medianMs = quantileSorted(sorted, 0.5);
    return {
      ...c,
      medianMs,
      minMs: sorted[0] ?? Number.NaN,
      p90Ms: quantileSorted(sorted, 0.9),
      vsBareMs: medianMs - bareMedian,
    };
  });
}

/** The bars, read from the rows of build `label`; a bar whose row is missing is missed. */
export function cliBars(rows: CliBenchRow[], label: string | null): CliBar[] {
  return cliBarSpecs.map((spec) => {
    const row = rows.find((r) => r.name === spec.row && r.build === label);
    const valueMs = row ? (spec.measure === 'vs bare' ? row.vsBareMs : row.medianMs) : Number.NaN;
    return { ...spec, valueMs, met: valueMs <= spec.limitMs };
  });
}

async function runCase(c: Case): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  if (c.until === 'exit') {
    const started = performance.now();
    const child = spawn(process.execPath, c.args, {
      cwd: c.cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (status) => done(status));
    });
    const ms = performance.now() - started;
    if (code !== 0) throw new AppError('internal', `bench cli: ${c.command} exited ${code}: ${stderr.trim()}`);
    return ms;
  }
  const port = await freePort();
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  const started = performance.now();
  // its own process group: npm start's node (a grandchild) ends with it
  const child = spawn(c.command === 'npm start' ? 'npm' : process.execPath, c.args, {
    cwd: c.cwd,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited (${signal ?? code})`;
  });
  child.once('error', (err) => {
    exited = `did not start: ${err.message}`;
  });
  try {
    for (;;) {
      if (exited) throw new AppError('internal', `bench cli: ${c.command} ${exited} before /readyz answered 200`);
      if ((await readyz(port)) === 200) return performance.now() - started;
      if (performance.now() - started > 60_000)
        throw new AppError('internal', `bench cli: ${c.command}: no 200 from /readyz within 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    if (child.pid !== undefined) await endGroup(child.pid);
  }
}

/** The status of GET /readyz, or 0 while nothing answers. */
function readyz(port: number): Promise<number> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(0));
    req.end();
  });
}

/** SIGTERM to the process group, then waits until every process of it is gone (SIGKILL after 10 s). */
async function endGroup(pid: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(-pid, 'SIGTERM');
  const deadline = performance.now() + 10_000;
  while (alive()) {
    if (performance.now() > deadline) process.kill(-pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)}` : '-');

export function formatCliBench(r: CliBenchResult): string {
  const lines = [
    `CLI start-up, ms from spawn to exit (/readyz rows: to its first 200), ${r.repeats} rounds interleaved`,
  ];
  for (const b of r.builds) lines.push(`  build ${b.label}: ${b.root} (${b.commit ?? 'not a git checkout'})`);
  const nameWidth = Math.max(...r.rows.map((x) => x.name.length), 8) + 2;
  const buildWidth = Math.max(...r.builds.map((b) => b.label.length), 5) + 2;
  lines.push(
    `${pad('command', nameWidth)}${pad('build', buildWidth)}${lpad('median', 7)}${lpad('min', 7)}${lpad('p90', 7)}` +
      `${lpad('vs bare node', 14)}`,
  );
  const order = [...new Set(r.rows.map((x) => x.name))];
  for (const name of order)
    for (const x of r.rows.filter((y) => y.name === name))
      lines.push(
        `${pad(x.name, nameWidth)}${pad(x.build ?? '-', buildWidth)}${lpad(ms(x.medianMs), 7)}${lpad(ms(x.minMs), 7)}` +
          `${lpad(ms(x.p90Ms), 7)}${lpad(x.build === null ? '-' : signed(x.vsBareMs), 14)}`,
      );
  lines.push('', `bars (build ${r.builds[0]?.label ?? '-'}):`);
  for (const b of r.bars) {
    const value = b.measure === 'vs bare' ? `${signed(b.valueMs)} ms` : `${ms(b.valueMs)} ms`;
    lines.push(`  ${b.met ? 'pass' : 'FAIL'}  ${b.name}: ${value}`);
  }
  return lines.join('\n');
}
