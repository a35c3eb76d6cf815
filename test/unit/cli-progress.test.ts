import { describe, expect, it } from 'vitest';
import { Progress, progressIntervalMs } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean): { write: (s: string) => void; isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  return { write: (s: string) => void chunks.push(s), isTTY, text: () => chunks.join('') };
}

describe('CLI progress', () => {
  it('writes a plain line at most every interval when stderr is not a terminal', () => {
    let t = 0;
    const stream = fakeStream(false);
    const p = new Progress('bench place', 10, { stream, intervalMs: 5000, now: () => t });
    for (let i = 0; i < 10; i++) {
      t += 1500;
      p.tick();
    }
    p.finish();
    const lines = stream.text().trimEnd().split('\n');
    // ticks at 1.5 s ... 15 s: lines at 6 s, 12 s (each at least 5 s after the last), then the final line
    expect(lines).toEqual([
      'bench place: 4/10 (40 %) 6s elapsed ETA 9s',
      'bench place: 8/10 (80 %) 12s elapsed ETA 3s',
      'bench place: 10/10 (100 %) 15s elapsed (done)',
    ]);
    expect(stream.text()).not.toContain('\r');
  });

  it('stays silent for a command shorter than the interval, and with quiet', () => {
    let t = 0;
    const short = fakeStream(false);
    const p = new Progress('x', 3, { stream: short, intervalMs: 5000, now: () => t });
    p.tick();
    t = 4000;
    p.tick();
    p.finish();
    expect(short.text()).toBe('');
    const quiet = fakeStream(false);
    const q = new Progress('x', null, { stream: quiet, intervalMs: 10, quiet: true, now: () => t });
    for (let i = 0; i < 5; i++) {
      t += 100;
      q.tick();
      q.detail('a workload done');
    }
    q.finish();
    expect(quiet.text()).toBe('');
    const tty = fakeStream(true);
    const r = new Progress('x', 2, { stream: tty, quiet: true, now: () => t });
    r.tick();
    r.finish();
    expect(tty.text()).toBe('');
  });

  it('redraws one line in place on a terminal and ends it before other lines', () => {
    let t = 0;
    const stream = fakeStream(true);
    const p = new Progress('validate', 3, { stream, now: () => t });
    p.tick();
    t += 50;
    p.tick(); // within 200 ms of the last draw: not drawn
    t += 300;
    p.log('a warning');
    p.tick();
    p.finish();
    expect(stream.text()).toBe(
      '\rvalidate: 1/3 (33 %) 0s elapsed ETA 0s\u001b[K\na warning\n\rvalidate: 3/3 (100 %) 0s elapsed\u001b[K\n',
    );
  });

  it('shows detail lines with the elapsed time and an unknown total as a count', () => {
    let t = 0;
    const stream = fakeStream(false);
    const p = new Progress('place', null, { stream, intervalMs: 1000, now: () => t });
    t = 2500;
    p.update(7, null, '12 GPU simulations');
    p.detail('workload 1 placed');
    t = 3000;
    p.tick(); // within the interval after the detail line
    p.finish();
    expect(stream.text()).toBe(
      'place: 7 done 12 GPU simulations 2s elapsed\n[2s] workload 1 placed\n' +
        'place: 8 done 12 GPU simulations 3s elapsed (done)\n',
    );
  });

  it('reads its interval from LORA_PLACER_PROGRESS_INTERVAL_MS, naming it when malformed', () => {
    expect(progressIntervalMs({})).toBe(5000);
    expect(progressIntervalMs({ LORA_PLACER_PROGRESS_INTERVAL_MS: '250' })).toBe(250);
    expect(() => progressIntervalMs({ LORA_PLACER_PROGRESS_INTERVAL_MS: 'soon' })).toThrow(
      /^LORA_PLACER_PROGRESS_INTERVAL_MS: expected/,
    );
  });
});
