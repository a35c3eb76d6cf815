/** Every exit status of lora-placer, in one place (also in `lora-placer --help` and docs/cli.md). */
export const ExitCode = {
  /** the command did what was asked */
  ok: 0,
  /** an internal error, or a check the command was asked to make failed (bench bars, validate gates, --check) */
  failure: 1,
  /** bad input: an unknown command or option, a malformed value or document; the offending field is named */
  badInput: 2,
  /** place: the placement was answered (on stdout) but left adapters unplaced (its `unplaced` list) */
  unplaced: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const { ok, failure, badInput, unplaced } = ExitCode;

export const exitCodesHelp = [
  `Exit status: ${ok} success; ${failure} internal error or a failed check (bench bars, validate gates,`,
  `--check); ${badInput} bad input (the offending field is named); ${unplaced} place answered but left adapters`,
  'unplaced.',
].join('\n');
