import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newcomerCases } from '../helpers/newcomer.js';
import { cli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-cli-warnings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Answer = { warnings: { code: string; field: string; message: string }[] };

describe('the CLI prints warnings on stderr and keeps them in the JSON', () => {
  it('place: each newcomer mistake of issue 24 in one batch, one warning line per answer, exit 0', () => {
    const file = join(dir, 'newcomer.jsonl');
    writeFileSync(file, newcomerCases.map((c) => JSON.stringify(c.workload())).join('\n'));
    const r = cli(['place', file]);
    expect(r.status, r.stderr).toBe(0);
    const answers = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Answer);
    expect(answers).toHaveLength(newcomerCases.length);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    newcomerCases.forEach((c, i) => {
      const w = answers[i]!.warnings.find((x) => x.code === c.code);
      expect(w?.field, c.name).toBe(c.field);
      // batches name the item as error paths do: [i].field
      expect(lines, c.name).toContain(`warning: ${c.code} [${i}].${c.field}: ${w!.message}`);
    });
  });

  it('simulate and predict of one scenario: `warning: CODE field: message`', () => {
    const file = join(dir, 'scenario.json');
    const scenario = {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      engine: { maxLoras: 4, maxNumBatchedTokens: 8192, maxNumSeqs: 256 },
      adapters: [
        { id: 'a', rank: 8, rate: 1 },
        { id: 'b', rank: 16, rate: 0.5 },
      ],
      durationS: 30,
    };
    writeFileSync(file, JSON.stringify(scenario));
    for (const command of ['simulate', 'predict']) {
      const r = cli([command, file]);
      expect(r.status, r.stderr).toBe(0);
      const [w] = (JSON.parse(r.stdout) as Answer).warnings;
      expect(w?.code).toBe('LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED');
      expect(r.stderr).toBe(
        `warning: LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED engine.maxNumBatchedTokens: ${w!.message}\n`,
      );
    }
  });

  it('prints nothing for the example workload', () => {
    const r = cli(['place', join(root, 'examples', 'workload.json')]);
    expect(r.status).toBe(0);
    // stderr carries the count's explanation, and no warning
    expect(r.stderr).not.toMatch(/^warning:/m);
    expect((JSON.parse(r.stdout) as Answer).warnings).toEqual([]);
  });
});
