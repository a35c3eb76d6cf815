/**
 * The manifests flood of issue 22, as its own process (so that reading the answers does not slow the test's
 * /healthz sampler): `concurrency` clients ask GET /v1/pools/{pool}/manifests, each time with a namespace never
 * asked before, alternating JSON and YAML, for `durationMs`, without a token. Prints one JSON line:
 * `{ requests, statuses: {code: count}, bytes }`.
 *
 * usage: node --import tsx test/helpers/manifests-flood.ts BASE POOL CONCURRENCY DURATION_MS
 */
const [base, pool, concurrency, durationMs] = process.argv.slice(2);
if (!base || !pool) throw new Error('usage: manifests-flood.ts BASE POOL CONCURRENCY DURATION_MS');

const statuses: Record<string, number> = {};
let requests = 0;
let bytes = 0;
const end = Date.now() + Number(durationMs);

async function client(id: number): Promise<void> {
  for (let i = 0; Date.now() < end; i++) {
    const format = i % 2 === 0 ? 'yaml' : 'json';
    const url = `${base}/v1/pools/${pool}/manifests?format=${format}&namespace=flood-${id}-${i}`;
    const status = await fetch(url).then(
      async (r) => {
        bytes += (await r.arrayBuffer()).byteLength;
        return String(r.status);
      },
      () => 'connection-error',
    );
    requests++;
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, (_, id) => client(id)));
process.stdout.write(`${JSON.stringify({ requests, statuses, bytes })}\n`);
