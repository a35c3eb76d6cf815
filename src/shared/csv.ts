import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { AppError } from './errors.js';

export type CsvRow = Record<string, string>;

/** Reads a CSV (optionally .gz) with a header row into string records. Quoted fields are supported. */
export function readCsv(file: string): CsvRow[] {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new AppError('dataFile', `cannot read ${file}: ${(err as Error).message}`);
  }
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return parseCsv(text);
}

export function parseCsv(text: string): CsvRow[] {
  const { header, records } = parseCsvRecords(text);
  return records.map(({ fields }) => {
    const row: CsvRow = {};
    header.forEach((name, i) => {
      row[name] = fields[i] ?? '';
    });
    return row;
  });
}

/** One record of a CSV and the line it starts on (1-based; a quoted field may span lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * The header and the records of a CSV with the line each starts on, blank lines skipped: for readers that
 * name the line and column of a bad cell (and notice a record with fewer fields than the header).
 */
export function parseCsvRecords(text: string): { header: string[]; records: CsvRecord[] } {
  const records = splitRecords(text);
  const header = records.shift()?.fields ?? [];
  return { header, records: records.filter((r) => r.fields.length > 1 || (r.fields[0] ?? '') !== '') };
}

function splitRecords(text: string): CsvRecord[] {
  const rows: CsvRecord[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push({ line: rowLine, fields: row });
      row = [];
      field = '';
      line++;
      rowLine = line;
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ line: rowLine, fields: row });
  }
  return rows;
}

/** A number from a CSV cell, or null when the cell is empty or not numeric. */
export function num(row: CsvRow, column: string): number | null {
  const cell = row[column];
  if (cell === undefined || cell === '' || cell === 'None') return null;
  const v = Number(cell);
  return Number.isFinite(v) ? v : null;
}

/** A number that must be present; names the file, row and column otherwise. */
export function requireNum(row: CsvRow, column: string, where: string): number {
  const v = num(row, column);
  if (v === null) throw new AppError('dataFile', `${where}: column ${column} is missing or not a number`);
  return v;
}
