export const benchHelp = `bench twin   benchmark tables (simulated seconds per wall second)`;
export async function runBench(_argv: string[]): Promise<number> {
  return 0;
}
