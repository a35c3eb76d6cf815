import { spawn, type ChildProcess } from 'node:child_process';
import { answersPing } from '../../src/bench/private-redis.js';
import { freePort } from '../../src/shared/free-port.js';
import { exited } from './service-process.js';

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGKILL, like a crashed node */
  stop: () => Promise<void>;
  /** starts it again on the same port and directory (its append-only file brings the data back) */
  restart: () => Promise<void>;
}

/**
 * A real redis-server on a free loopback port, in the foreground (stopped by PID), persisting to an
 * append-only file in `dir` fsynced on every write, so a restart of Redis keeps what it acknowledged.
 * `extraArgs` are more redis-server options (`--maxmemory 4mb`, ...).
 */
export async function startRedis(dir: string, extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: undefined as unknown as ChildProcess,
    stop: async () => {},
    restart: async () => {},
  };
  const launch = async (): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        ...extraArgs,
      ],
      { stdio: 'ignore' },
    );
    server.process = child;
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  server.stop = async () => {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
    await exited(server.process);
  };
  server.restart = launch;
  await launch();
  return server;
}
