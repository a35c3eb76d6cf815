import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/shared/errors.js';
import { describeQueue, redactedUrl, sweepQueueAddress } from '../../src/training/sweep-queue.js';

// Where the sweep queue is (src/training/sweep-queue.ts) and the service settings that use it.

describe('the sweep queue address', () => {
  it('takes a redis:// or rediss:// URL and the REDIS_KEY_PREFIX; refuses others naming the flag', () => {
    expect(sweepQueueAddress('rediss://h:6380/2', '--queue', 'x:')).toEqual({
      url: 'rediss://h:6380/2',
      keyPrefix: 'x:',
    });
    for (const bad of ['http://h:6379', 'h:6379', '', 'redis://']) {
      const err = (() => {
        try {
          sweepQueueAddress(bad, '--queue');
        } catch (e) {
          return e as AppError;
        }
        return null;
      })();
      expect(err, bad).toBeInstanceOf(AppError);
      expect(err!.message, bad).toMatch(/^--queue: expected a redis:\/\/ or rediss:\/\/ URL/);
    }
    expect(() => sweepQueueAddress('redis://h', 'REDIS_URL', 'bad prefix')).toThrow(/^REDIS_KEY_PREFIX:/);
  });

  it('never writes a password: messages and logs show the URL without it', () => {
    expect(redactedUrl('redis://user:s3cret@h:6379/0')).toBe('redis://user:***@h:6379/0');
    expect(redactedUrl('rediss://:s3cret@h:6379')).toBe('rediss://:***@h:6379');
    expect(redactedUrl('redis://h:6379')).toBe('redis://h:6379');
    const where = describeQueue({ url: 'redis://:s3cret@h:6379', keyPrefix: 'lora-placer:' });
    expect(where).toBe('queue "sweeps" at redis://:***@h:6379 (keys lora-placer:bull:)');
    expect(() => sweepQueueAddress('ftp://:s3cret@h', '--redis')).toThrow(/ftp:\/\/:\*\*\*@h/);
  });
});

describe('the service settings of the sweep queue', () => {
  it('are off by default, and need REDIS_URL when on', () => {
    expect(loadConfig({})).toMatchObject({ REFRESH_SWEEPS: 'local', SWEEP_WORKER: '0', SWEEP_WORKER_THREADS: 1 });
    expect(() => loadConfig({ REFRESH_SWEEPS: 'queue' })).toThrow(/REFRESH_SWEEPS: the sweep queue needs REDIS_URL/);
    expect(() => loadConfig({ SWEEP_WORKER: '1' })).toThrow(/SWEEP_WORKER: the sweep queue needs REDIS_URL/);
    expect(() => loadConfig({ SWEEP_WORKER: 'yes' })).toThrow(/SWEEP_WORKER/);
    const on = loadConfig({
      REDIS_URL: 'redis://r:6379',
      REFRESH_SWEEPS: 'queue',
      SWEEP_WORKER: '1',
      SWEEP_WORKER_THREADS: '3',
    });
    expect(on).toMatchObject({ REFRESH_SWEEPS: 'queue', SWEEP_WORKER: '1', SWEEP_WORKER_THREADS: 3 });
  });
});
