/**
 * `kubectl create --dry-run=client` without a cluster: kubectl decodes every object offline, then asks the API server
 * which resource each kind is (discovery) before it prints them. This loopback server answers the discovery of the
 * kinds the manifests route writes, and nothing else; a kubeconfig pointing at it lets kubectl 1.32 run its whole
 * client-side path (no object is ever sent: dry-run=client never writes).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const resources = (groupVersion: string, list: [name: string, kind: string][]) => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion,
  resources: list.map(([name, kind]) => ({ name, singularName: '', namespaced: true, kind, verbs: ['create', 'get'] })),
});
const group = (name: string) => ({
  name,
  versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
  preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
});

/** Legacy discovery documents (kubectl falls back to them when the server does not answer aggregated discovery). */
const discovery: Record<string, unknown> = {
  '/version': { major: '1', minor: '32', gitVersion: 'v1.32.0' },
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [group('apps'), group('inference.networking.k8s.io')] },
  '/api/v1': resources('v1', [
    ['configmaps', 'ConfigMap'],
    ['services', 'Service'],
  ]),
  '/apis/apps/v1': resources('apps/v1', [['deployments', 'Deployment']]),
  '/apis/inference.networking.k8s.io/v1': resources('inference.networking.k8s.io/v1', [
    ['inferencepools', 'InferencePool'],
  ]),
};

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A discovery-only API server on loopback and a kubeconfig for it; `close` stops both. */
export class KubeDiscovery {
  private constructor(
    private readonly server: Server,
    private readonly dir: string,
  ) {}

  static async start(): Promise<KubeDiscovery> {
    const server = createServer((req, res) => {
      const body = discovery[(req.url ?? '').split('?')[0]!];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { kind: 'Status', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), 'lp-kubectl-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'discovery', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'nobody', user: {} }],
        contexts: [{ name: 'discovery', context: { cluster: 'discovery', user: 'nobody', namespace: 'default' } }],
        'current-context': 'discovery',
      }),
    );
    return new KubeDiscovery(server, dir);
  }

  /**
   * `kubectl <args>` against this server, `input` on its stdin. Run asynchronously: this process answers kubectl's
   * discovery requests meanwhile.
   */
  kubectl(args: string[], input: string): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        [...args, '--cache-dir', join(this.dir, 'cache')],
        {
          encoding: 'utf8',
          timeout: 60_000,
          maxBuffer: 256 * 1024 * 1024,
          env: { PATH: process.env.PATH, HOME: this.dir, KUBECONFIG: join(this.dir, 'kubeconfig') },
        },
        (err, stdout, stderr) => {
          const code = (err as { code?: unknown } | null)?.code;
          resolve({ status: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
        },
      );
      child.stdin!.end(input);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
