// npx tsx scripts/doc-tables.ts [--only NAME[,NAME...]] [--all] [--list] [--no-build] [--data DIR]
//
// Regenerates the measured tables in docs/*.md from the project's own commands. A table lives between
//   <!-- table:NAME -->   and   <!-- /table:NAME -->
// and is rewritten whole: a stamp line (the exact command, the git commit, "+dirty" when tracked files
// differ from it, the date) and the command's output in a fenced block. Without --only the light tables
// run (about a minute each, one after the other); --all adds the heavy ones: benchmark suites that take
// from minutes to hours, and timings, which want the machine to themselves (on a loaded machine they
// measure the load). Nothing is written for a command that fails.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Table {
  /** marker name: <!-- table:NAME --> */
  name: string;
  /** the docs file holding it */
  file: string;
  /** argv after `node dist/cli.js` */
  args: (data: string) => string[];
  heavy: boolean;
  about: string;
}

export const tables: Table[] = [
  {
    name: 'validate',
    file: 'docs/accuracy.md',
    args: (d) => ['validate', '--runs', `${d}/vllm-lora/dt_validation_real_runs.csv`],
    heavy: false,
    about: 'the Twin and the predictors against the real vLLM runs (about 30 s on 2 cores)',
  },
  {
    name: 'calibrate',
    file: 'docs/twin.md',
    args: (d) => ['calibrate', '--data', `${d}/vllm-lora`, '--gpu', 'h100-64gb', '--check'],
    heavy: false,
    about: 'the shipped profiles refitted from the calibration tables and compared with models/profiles',
  },
  {
    name: 'bench-twin',
    file: 'docs/benchmarks.md',
    args: () => ['bench', 'twin'],
    heavy: true,
    about: 'Twin speed on the reference and a heavy scenario (seconds; timings: wants an idle machine)',
  },
  {
    name: 'bench-predict',
    file: 'docs/benchmarks.md',
    args: () => ['bench', 'predict'],
    heavy: true,
    about:
      'cost of one prediction, served students against ml-cart and the forests (about a minute idle; ' +
      'timings: wants an idle machine)',
  },
  {
    name: 'bench-place',
    file: 'docs/benchmarks.md',
    args: (d) => ['bench', 'place', '--repeats', '3', '--data', d],
    heavy: true,
    about:
      'placement speed and the 72-workload quality suite, every GPU verified by the Twin (about 11 minutes on 2 cores)',
  },
  {
    name: 'bench-place-slo',
    file: 'docs/benchmarks.md',
    args: (d) => ['bench', 'place', '--quick', '--slo', '--best-known-s', '30', '--data', d],
    heavy: true,
    about: 'a quarter of the suite at equal SLO with a 30 s best-known search (about 25 minutes on 2 cores)',
  },
  {
    name: 'bench-http',
    file: 'docs/benchmarks.md',
    args: () => ['bench', 'http'],
    heavy: true,
    about: 'the service under autocannon, idle and during an 8,000-workload refresh (takes both cores)',
  },
  {
    name: 'bench-robustness',
    file: 'docs/benchmarks.md',
    args: () => ['bench', 'robustness'],
    heavy: true,
    about: "the hardening report's hostile requests against the service (about 1.5 minutes, both cores)",
  },
  {
    name: 'bench-drift-quick',
    file: 'docs/replan.md',
    args: (d) => ['bench', 'drift', '--quick', '--data', d],
    heavy: false,
    about:
      're-placement against placing from scratch over 6 hours of the conversation trace, 64 adapters (about 2 minutes)',
  },
  {
    name: 'bench-drift',
    file: 'docs/replan.md',
    args: (d) => ['bench', 'drift', '--data', d],
    heavy: true,
    about:
      'the same over a whole day of both traces, 256 adapters, every plan re-simulated (about 1.5 hours on 2 cores)',
  },
  {
    name: 'train-llama',
    file: 'docs/predictors.md',
    args: (d) => [
      'train',
      '--model',
      'llama-3.1-8b-instruct',
      '--gpu',
      'h100-64gb',
      '--runs',
      `${d}/vllm-lora/dt_validation_real_runs.csv`,
      '--created',
      createdOf('llama-3.1-8b-instruct@h100-64gb'),
      '--check',
    ],
    heavy: true,
    about: 'the Llama predictors retrained from scratch and compared byte for byte (about 14 minutes)',
  },
];

function createdOf(bundle: string): string {
  const meta = JSON.parse(readFileSync(join(root, 'models/predictors', bundle, 'metadata.json'), 'utf8')) as {
    created: string;
  };
  return meta.created;
}

const root = resolve(new URL('..', import.meta.url).pathname);

function git(args: string[]): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** short HEAD, "+dirty" when a tracked file differs from it (untracked files do not count). */
export function commitStamp(): string {
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}+dirty` : head;
}

/** The text between a table's markers: stamp line, then the output fenced. */
export function tableBlock(name: string, command: string, commit: string, date: string, output: string): string {
  const body = output.replace(/\s+$/, '');
  return [
    `\`${command}\` at commit \`${commit}\`, ${date}. Regenerate: \`npx tsx scripts/doc-tables.ts --only ${name}\`.`,
    '',
    '```text',
    body,
    '```',
  ].join('\n');
}

/** Replaces what lies between <!-- table:NAME ... --> and <!-- /table:NAME -->; throws when the markers are missing. */
export function replaceTable(doc: string, name: string, block: string): string {
  const open = new RegExp(`<!-- table:${name}(\\s[^>]*)? -->`);
  const close = `<!-- /table:${name} -->`;
  const m = open.exec(doc);
  const end = doc.indexOf(close);
  if (!m || end < m.index) throw new Error(`no <!-- table:${name} --> ... ${close} markers`);
  const start = m.index + m[0].length;
  return `${doc.slice(0, start)}\n${block}\n${doc.slice(end)}`;
}

/** Output as it may appear in a document: the checkout's absolute path becomes ".". */
function sanitize(text: string): string {
  return text.split(root).join('.');
}

function main(): number {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      all: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      data: { type: 'string', default: '../shared/data' },
    },
  });
  if (values.list) {
    for (const t of tables)
      process.stdout.write(`${t.name.padEnd(18)} ${t.heavy ? 'heavy' : 'light'}  ${t.file.padEnd(20)} ${t.about}\n`);
    return 0;
  }
  const names = values.only?.split(',').map((s) => s.trim());
  const unknown = names?.filter((n) => !tables.some((t) => t.name === n)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`unknown table(s) ${unknown.join(', ')}; known: ${tables.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const chosen = tables.filter((t) => (names ? names.includes(t.name) : values.all || !t.heavy));
  if (!values['no-build']) {
    const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) return 1;
  }
  const commit = commitStamp();
  const date = new Date().toISOString().slice(0, 10);
  let failed = 0;
  for (const t of chosen) {
    const args = t.args(values.data);
    const command = `node dist/cli.js ${args.join(' ')}`;
    process.stdout.write(`== ${t.name}: ${command}\n`);
    const started = Date.now();
    const r = spawnSync(process.execPath, ['dist/cli.js', ...args], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) {
      process.stderr.write(`${t.name} failed (exit ${r.status ?? r.signal}):\n${r.stderr}\n`);
      failed++;
      continue;
    }
    const file = join(root, t.file);
    const doc = readFileSync(file, 'utf8');
    writeFileSync(file, replaceTable(doc, t.name, tableBlock(t.name, command, commit, date, sanitize(r.stdout))));
    process.stdout.write(`   wrote ${t.file} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname))
  process.exitCode = main();
