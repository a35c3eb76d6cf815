import { z } from 'zod';
import { parseCsvRecords } from '../shared/csv.js';
import { AppError } from '../shared/errors.js';

/**
 * A per-request CSV: one row per completed request, times in seconds on any one clock (a gateway's access
 * log, a client's own records, `lora-placer simulate --bench-out`):
 *   arrival_s,first_token_s,last_token_s,input_tokens,output_tokens,adapter
 * `adapter` (the LoRA name the request asked for; empty for the base model) may be left out.
 */
export const requestCsvColumns = [
  'arrival_s',
  'first_token_s',
  'last_token_s',
  'input_tokens',
  'output_tokens',
  'adapter',
] as const;

const requiredColumns = requestCsvColumns.filter((c) => c !== 'adapter');

const cellNumber = z
  .string()
  .trim()
  .min(1, 'is empty')
  .transform(Number)
  .pipe(z.number({ error: 'is not a number' }).finite('is not a number'));

const RequestRow = z
  .object({
    arrival_s: cellNumber,
    first_token_s: cellNumber,
    last_token_s: cellNumber,
    input_tokens: cellNumber.pipe(z.number().int('is not a whole token count').min(1, 'is below 1')),
    output_tokens: cellNumber.pipe(z.number().int('is not a whole token count').min(1, 'is below 1')),
    adapter: z.string().trim().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.first_token_s < r.arrival_s)
      ctx.addIssue({ code: 'custom', path: ['first_token_s'], message: 'is before arrival_s' });
    if (r.last_token_s < r.first_token_s)
      ctx.addIssue({ code: 'custom', path: ['last_token_s'], message: 'is before first_token_s' });
  });

/** One row of a per-request CSV. */
export interface CsvRequest {
  line: number;
  arrivalS: number;
  firstTokenS: number;
  lastTokenS: number;
  input: number;
  output: number;
  /** null: the base model */
  adapter: string | null;
}

/** Parses a per-request CSV; errors name `file:line` and the column. */
export function parseRequestCsv(text: string, file: string): CsvRequest[] {
  const { header, records } = parseCsvRecords(text);
  const names = header.map((h) => h.trim());
  const missing = requiredColumns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new AppError(
      'invalidInput',
      `${file}:1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (a per-request CSV has ` +
        `${requestCsvColumns.join(',')})`,
      { file, line: 1, field: missing[0] },
    );
  }
  if (records.length === 0) throw new AppError('invalidInput', `${file}: no request rows`, { file });
  return records.map(({ line, fields }) => {
    if (fields.length < names.length) {
      const column = names[fields.length]!;
      throw new AppError(
        'invalidInput',
        `${file}:${line}: ${fields.length} of ${names.length} fields: ${column} is missing (a truncated row?)`,
        { file, line, field: column },
      );
    }
    const cells = Object.fromEntries(names.map((n, i) => [n, fields[i]!]));
    const parsed = RequestRow.safeParse(cells);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const column = String(issue.path[0] ?? '');
      throw new AppError(
        'invalidInput',
        `${file}:${line}: column ${column}: ${JSON.stringify(cells[column] ?? '')} ${issue.message}`,
        { file, line, field: column },
      );
    }
    const r = parsed.data;
    return {
      line,
      arrivalS: r.arrival_s,
      firstTokenS: r.first_token_s,
      lastTokenS: r.last_token_s,
      input: r.input_tokens,
      output: r.output_tokens,
      adapter: r.adapter ? r.adapter : null,
    };
  });
}
