import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { AppError } from '../shared/errors.js';
import { freePort } from '../shared/free-port.js';

/** A redis-server of a benchmark's own: loopback, a free port, nothing persisted. */
export interface PrivateRedis {
  url: string;
  stop: () => Promise<void>;
}

/** Whether a Redis answers PING on this loopback port (the server is up and accepting commands). */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', () => resolve(false));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** Starts redis-server from the PATH (AppError invalidInput naming --redis when there is none). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  if (spawnSync('redis-server', ['--version']).error)
    throw new AppError('invalidInput', 'redis-server is not on the PATH: install it or pass --redis URL');
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const deadline = Date.now() + 10_000; !(await answersPing(port)); ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AppError('internal', `redis-server did not answer on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
