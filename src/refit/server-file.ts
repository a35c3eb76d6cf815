import { z } from 'zod';
import { AdapterId, allowedMaxLoraRanks } from '../twin/index.js';

const PositiveInt = z.number().int().positive();

/**
 * A server file: the flags one `vllm serve` was started with, its log, and the benchmarks run against it
 * (paths relative to the server file). What `vllm bench serve` cannot record about the server.
 */
export const ServerFile = z
  .object({
    vllmServe: z
      .object({
        model: z.string().max(256).optional().describe('the model served (informational)'),
        vllmVersion: z.string().max(64).optional(),
        maxLoras: PositiveInt.max(4096).optional().describe('--max-loras; required with loraModules'),
        maxLoraRank: z
          .number()
          .int()
          .refine((r) => (allowedMaxLoraRanks as readonly number[]).includes(r), {
            message: `vLLM accepts only ${allowedMaxLoraRanks.join(', ')}`,
          })
          .optional()
          .describe('--max-lora-rank; default: the smallest vLLM accepts above every adapter rank'),
        maxCpuLoras: PositiveInt.optional().describe('--max-cpu-loras; default: the number of adapters'),
        maxModelLen: PositiveInt.max(10_000_000).optional().describe("--max-model-len; default: the profile's"),
        maxNumSeqs: PositiveInt.max(100_000).optional().describe("--max-num-seqs; default: the profile's"),
        maxNumBatchedTokens: PositiveInt.max(1_000_000)
          .optional()
          .describe("--max-num-batched-tokens; default: the profile's"),
        loraModules: z
          .array(z.object({ name: AdapterId, rank: z.number().int().min(1).max(512) }).strict())
          .max(10_000)
          .default([])
          .describe('--lora-modules in the order given (and their ranks); empty: no --enable-lora'),
        log: z.string().min(1).optional().describe('its log, with the "GPU KV cache size: N tokens" line'),
      })
      .strict()
      .superRefine((s, ctx) => {
        if (s.loraModules.length > 0 && s.maxLoras === undefined)
          ctx.addIssue({ code: 'custom', path: ['maxLoras'], message: 'required with loraModules (--max-loras)' });
        const names = new Set<string>();
        s.loraModules.forEach((m, i) => {
          if (names.has(m.name))
            ctx.addIssue({ code: 'custom', path: ['loraModules', i, 'name'], message: `duplicate ${m.name}` });
          names.add(m.name);
          if (s.maxLoraRank !== undefined && m.rank > s.maxLoraRank)
            ctx.addIssue({
              code: 'custom',
              path: ['loraModules', i, 'rank'],
              message: `above maxLoraRank ${s.maxLoraRank}`,
            });
        });
      }),
    runs: z
      .array(
        z
          .object({
            result: z.string().min(1).optional().describe('a vllm bench serve --save-result --save-detailed JSON'),
            requests: z.string().min(1).optional().describe('a per-request CSV of the same run'),
            loraAssignment: z
              .enum(['round-robin', 'random'])
              .optional()
              .describe("vllm bench serve --lora-assignment (default random, vLLM's)"),
          })
          .strict()
          .refine((r) => r.result !== undefined || r.requests !== undefined, {
            message: 'needs "result", "requests" or both',
          }),
      )
      .min(1),
  })
  .strict();
export type ServerFile = z.infer<typeof ServerFile>;
