import { AppError } from '../shared/errors.js';

/**
 * Where sweep batches queue: one BullMQ queue on the Redis the service uses (REDIS_URL), under its key
 * prefix (REDIS_KEY_PREFIX), so `train --queue`, `lora-placer worker` and the service's replicas
 * (SWEEP_WORKER=1, REFRESH_SWEEPS=queue) meet without other configuration. No BullMQ import here:
 * the CLI checks its options with this file before it loads the queue library.
 */
export interface SweepQueueAddress {
  /** redis:// or rediss:// URL */
  url: string;
  /** REDIS_KEY_PREFIX (default "lora-placer:"): the queue's keys are <prefix>bull:sweeps:* */
  keyPrefix: string;
}

export const sweepQueueName = 'sweeps';
export const defaultKeyPrefix = 'lora-placer:';
const redisUrl = /^rediss?:\/\/\S+$/;
const keyPrefixPattern = /^[A-Za-z0-9:._-]{1,64}$/;

/** BullMQ's key prefix for a REDIS_KEY_PREFIX (BullMQ adds its own ":" after it). */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

/** A queue address from a URL option (or REDIS_URL) and REDIS_KEY_PREFIX; bad input naming `flag` otherwise. */
export function sweepQueueAddress(url: string, flag: string, keyPrefix = defaultKeyPrefix): SweepQueueAddress {
  if (!redisUrl.test(url) || url.length > 4096)
    throw new AppError('invalidInput', `${flag}: expected a redis:// or rediss:// URL, got "${redactedUrl(url)}"`);
  if (!keyPrefixPattern.test(keyPrefix))
    throw new AppError('invalidInput', 'REDIS_KEY_PREFIX: 1-64 letters, digits, ":", ".", "_" or "-"');
  return { url, keyPrefix };
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@').slice(0, 200);
}

/** Where the queue is, for messages: redis://host:port (key prefix). */
export function describeQueue(address: SweepQueueAddress): string {
  return `queue "${sweepQueueName}" at ${redactedUrl(address.url)} (keys ${bullPrefix(address.keyPrefix)}:)`;
}
