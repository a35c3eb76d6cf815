import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AnswerSlots } from '../../src/api/answer-slots.js';
import { AppError } from '../../src/shared/errors.js';

/** A server whose requests wait to be answered by the test: each arrives as its response. */
async function server(): Promise<{ base: string; responses: ServerResponse[]; close: () => Promise<void> }> {
  const responses: ServerResponse[] = [];
  const s: Server = createServer((_req: IncomingMessage, res: ServerResponse) => responses.push(res));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(s.address() as { port: number }).port}`,
    responses,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

const replyOf = (res: ServerResponse) => ({ raw: res }) as unknown as FastifyReply;
const until = async (check: () => boolean) => {
  for (const end = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > end) throw new Error('timed out');
};
const options = { size: 1, maxWaiting: 1, maxWaitMs: 2000, maxAnswerMs: 2000, what: 'answers' };

describe('answer slots: a few large answers written at once, the others in line', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  it('gives the slot to the next in line when an answer ends, and refuses past the line with Retry-After', async () => {
    const srv = await server();
    close = srv.close;
    const slots = new AnswerSlots(options);
    const clients = [0, 1, 2].map(() => fetch(srv.base).then((r) => r.text()));
    await until(() => srv.responses.length === 3);
    const [first, second, third] = srv.responses as [ServerResponse, ServerResponse, ServerResponse];
    await slots.take(replyOf(first));
    let secondGotIt = false;
    const waiting = slots.take(replyOf(second)).then(() => (secondGotIt = true));
    expect(slots.waiting).toBe(1);
    const refused = await slots.take(replyOf(third)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('LP_ERR_BUSY');
    expect((refused as AppError).retryAfterS).toBe(1);
    third.end('refused');
    await new Promise((r) => setTimeout(r, 50));
    expect(secondGotIt).toBe(false);
    first.end('one');
    await waiting;
    expect(secondGotIt).toBe(true);
    second.end('two');
    expect(await Promise.all(clients)).toEqual(['one', 'two', 'refused']);
  });

  it('refuses a request that waited maxWaitMs for its turn', async () => {
    const srv = await server();
    close = srv.close;
    const slots = new AnswerSlots({ ...options, maxWaitMs: 100 });
    const clients = [0, 1].map(() => fetch(srv.base).then((r) => r.text()));
    await until(() => srv.responses.length === 2);
    const [first, second] = srv.responses as [ServerResponse, ServerResponse];
    await slots.take(replyOf(first));
    const t0 = Date.now();
    expect(await slots.take(replyOf(second)).catch((e: AppError) => e.code)).toBe('LP_ERR_BUSY');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(slots.waiting).toBe(0);
    second.end('refused');
    first.end('one');
    expect(await Promise.all(clients)).toEqual(['one', 'refused']);
  });

  it('gives the slot back at once when the client in line has gone by its turn', async () => {
    const srv = await server();
    close = srv.close;
    const slots = new AnswerSlots(options);
    const gone = new AbortController();
    const first = fetch(srv.base).then((r) => r.text());
    await until(() => srv.responses.length === 1);
    const waiterClient = fetch(srv.base, { signal: gone.signal }).catch(() => 'gone');
    await until(() => srv.responses.length === 2);
    const [holder, waiter] = srv.responses as [ServerResponse, ServerResponse];
    await slots.take(replyOf(holder));
    const queued = slots.take(replyOf(waiter));
    gone.abort();
    await waiterClient;
    await until(() => waiter.closed);
    holder.end('one');
    await queued;
    expect(await first).toBe('one');
    // the slot is free: the next take does not wait
    const next = fetch(srv.base).then((r) => r.text());
    await until(() => srv.responses.length === 3);
    await slots.take(replyOf(srv.responses[2]!));
    expect(slots.waiting).toBe(0);
    srv.responses[2]!.end('next');
    expect(await next).toBe('next');
  });

  it('cuts an answer still being written after maxAnswerMs: a slow reader keeps its slot no longer', async () => {
    const srv = await server();
    close = srv.close;
    const slots = new AnswerSlots({ ...options, maxAnswerMs: 100 });
    // the text's rejection handled at once: an answer cut mid-way rejects r.text()
    const client = fetch(srv.base)
      .then((r) => r.text())
      .catch(() => 'cut');
    await until(() => srv.responses.length === 1);
    const held = srv.responses[0]!;
    await slots.take(replyOf(held));
    held.write('a first piece, and never the rest');
    await until(() => held.destroyed);
    expect(await client).toBe('cut');
    // the slot is free again
    const next = fetch(srv.base).then((r) => r.text());
    await until(() => srv.responses.length === 2);
    await slots.take(replyOf(srv.responses[1]!));
    expect(slots.waiting).toBe(0);
    srv.responses[1]!.end('next');
    expect(await next).toBe('next');
  });
});
