export async function runServe(_argv: string[]): Promise<number> {
  const { startServer } = await import('../main.js');
  await startServer();
  return 0;
}
