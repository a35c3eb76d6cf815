import { AppError } from '../shared/errors.js';

/**
 * vLLM's start-up line with the KV capacity it allocated (`vllm/v1/core/kv_cache_utils.py`,
 * `logger.info("GPU KV cache size: %s tokens", f"{num_tokens:,}")`), e.g.
 * `INFO 10-07 17:47:03 [kv_cache_utils.py:1087] GPU KV cache size: 284,176 tokens`.
 * Newer versions print it once per worker (tensor parallelism) and may append the maximum concurrency.
 */
const kvLine = /GPU KV cache size: ([0-9][0-9,]*) tokens/;

/** The KV capacity (tokens) a `vllm serve` log reports, and the line it is on. */
export interface KvCapacityLine {
  tokens: number;
  line: number;
}

/**
 * Reads the KV capacity from the text of a `vllm serve` log; `file` names it in errors. Every matching line
 * must give the same number: two different ones are two server starts in one file, which one was benchmarked
 * is unknown.
 */
export function parseServeLog(text: string, file: string): KvCapacityLine {
  let found: KvCapacityLine | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = kvLine.exec(lines[i]!);
    if (!m) continue;
    const digits = m[1]!;
    if (!/^\d{1,3}(,\d{3})*$/.test(digits) && !/^\d+$/.test(digits)) {
      throw new AppError('invalidInput', `${file}:${i + 1}: "GPU KV cache size: ${digits} tokens" is not a number`, {
        file,
        line: i + 1,
      });
    }
    const tokens = Number(digits.replaceAll(',', ''));
    if (!Number.isSafeInteger(tokens) || tokens <= 0) {
      throw new AppError('invalidInput', `${file}:${i + 1}: KV cache size ${digits} is not a positive token count`, {
        file,
        line: i + 1,
      });
    }
    if (found && found.tokens !== tokens) {
      throw new AppError(
        'invalidInput',
        `${file}:${i + 1}: a second KV cache size (${tokens} tokens; line ${found.line} says ${found.tokens}): ` +
          'give one vllm serve start per log file',
        { file, line: i + 1 },
      );
    }
    found ??= { tokens, line: i + 1 };
  }
  if (!found) {
    throw new AppError(
      'invalidInput',
      `${file}: no "GPU KV cache size: N tokens" line: not the log of a vllm serve start (or cut before the KV ` +
        'cache was allocated)',
      { file },
    );
  }
  return found;
}
