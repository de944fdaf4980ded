import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeKubeconfigFile, nodeTokenFile, writeNodeKubeconfig } from '../../agent/node/node-kubeconfig';
import { currentContext } from '../../kube/kubeconfig-file';

describe("the node's kubeconfig (what flannel --kube-subnet-mgr acts as the node with)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lotse-node-kubeconfig-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('is read by a kubeconfig loader as the first master, the CA and the token file, and follows a rewritten token', () => {
    const caPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeNodeKubeconfig({ dataDir: dir, server: 'https://10.0.0.1:6443,https://10.0.0.2:6443', caPem, nodeName: 'n1', token: 'first' });
    // Written as JSON (so the agent loads no YAML library): still a kubeconfig to every YAML reader.
    const ctx = currentContext({ KUBECONFIG: nodeKubeconfigFile(dir) });
    expect(ctx).toMatchObject({ server: 'https://10.0.0.1:6443/', user: 'system:node:n1', token: 'first' });
    expect(ctx.ca?.toString()).toBe(caPem);
    writeFileSync(nodeTokenFile(dir), 'second\n');
    expect(currentContext({ KUBECONFIG: nodeKubeconfigFile(dir) }).token).toBe('second');
    for (const f of [nodeKubeconfigFile(dir), nodeTokenFile(dir)]) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(nodeKubeconfigFile(dir), 'utf8'))).toMatchObject({ kind: 'Config', 'current-context': 'lotse' });
  });
});
