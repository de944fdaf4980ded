import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { KubeClient } from '../../../kube/client';
import { NodeReferences } from '../../../master/auth/node-references';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

describe.each(storeKinds)('authentication and authorization on %s', (store) => {
  let m: TestMaster;
  let node: KubeClient;
  let other: KubeClient;

  beforeAll(async () => {
    m = await startTestMaster({ store, master: { tlsSans: ['lotse.example.test', '192.0.2.10'] } });
    const join = async (nodeName: string): Promise<KubeClient> => {
      const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName, addresses: ['127.0.0.1'] }) });
      expect(r.status).toBe(201);
      const creds = JSON.parse(r.body) as { token: string; servingCert: string };
      expect(new X509Certificate(creds.servingCert).subject).toContain(`CN=system:node:${nodeName}`);
      return new KubeClient({ server: m.url, ca: m.caPem, token: creds.token });
    };
    node = await join('n1');
    other = await join('n2');
  });
  afterAll(async () => {
    node?.close();
    other?.close();
    await m?.stop();
  });

  test('the data dir holds the CA, a kubeconfig and the join token, secrets readable by the owner only', () => {
    for (const f of ['ca.crt', 'admin.kubeconfig', 'join-token']) expect(existsSync(join(m.dataDir, f))).toBe(true);
    for (const f of ['ca.key', 'admin.kubeconfig', 'join-token', 'tokens.json']) expect(statSync(join(m.dataDir, f)).mode & 0o077).toBe(0);
    expect(readFileSync(join(m.dataDir, 'join-token'), 'utf8').trim()).toBe(m.joinToken);
  });

  test('the serving certificate carries the --tls-san names and is signed by the cluster CA', () => {
    const cert = new X509Certificate(readFileSync(join(m.dataDir, 'apiserver.crt')));
    expect(cert.subjectAltName).toContain('DNS:lotse.example.test');
    expect(cert.subjectAltName).toContain('IP Address:192.0.2.10');
    expect(cert.verify(new X509Certificate(m.caPem).publicKey)).toBe(true);
  });

  test('no token or a wrong token is 401; health needs none', async () => {
    expect((await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces')).status).toBe(401);
    expect((await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces', { token: 'not-a-token' })).status).toBe(401);
    expect((await rawRequest(m.url, m.caPem, 'GET', '/healthz')).body).toBe('ok');
    expect(JSON.parse((await rawRequest(m.url, m.caPem, 'GET', '/version')).body).major).toBe('1');
  });

  test('the viewer reads but cannot write or read secrets', async () => {
    const viewer = new KubeClient({ server: m.url, ca: m.caPem, token: m.viewerToken });
    try {
      await expect(viewer.list(cm)).resolves.toBeDefined();
      await expect(viewer.create(cm, { metadata: { name: 'v' } })).rejects.toMatchObject({ code: 403 });
      await expect(viewer.list({ ...cm, resource: 'secrets' })).rejects.toMatchObject({ code: 403 });
    } finally {
      viewer.close();
    }
  });

  test('the join token only joins', async () => {
    const joiner = new KubeClient({ server: m.url, ca: m.caPem, token: m.joinToken });
    try {
      await expect(joiner.list(cm)).rejects.toMatchObject({ code: 403 });
    } finally {
      joiner.close();
    }
    const bad = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'Not A Name' }) });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('not a valid node name');
  });

  test('a node writes its own Node and Lease, not another node\'s', async () => {
    const nodes = { group: '', version: 'v1', resource: 'nodes' };
    await node.create(nodes, { metadata: { name: 'n1' } });
    await expect(node.create(nodes, { metadata: { name: 'n2' } })).rejects.toMatchObject({ code: 403 });
    await other.create(nodes, { metadata: { name: 'n2' } });
    await expect(node.patch({ ...nodes, name: 'n2', subresource: 'status' }, 'merge', { status: { phase: 'x' } })).rejects.toMatchObject({ code: 403 });
    await node.patch({ ...nodes, name: 'n1', subresource: 'status' }, 'merge', { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const leases = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
    await node.create(leases, { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1' } } as never);
    await expect(node.create(leases, { metadata: { name: 'n2' } })).rejects.toMatchObject({ code: 403 });
    await expect(node.create({ ...leases, namespace: 'default' }, { metadata: { name: 'n1' } })).rejects.toMatchObject({ code: 403 });
  });

  test('the join token cannot take the name of a node that renews its lease', async () => {
    const leases = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
    const live = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n3' }) });
    const n3 = new KubeClient({ server: m.url, ca: m.caPem, token: (JSON.parse(live.body) as { token: string }).token });
    try {
      await n3.create({ group: '', version: 'v1', resource: 'nodes' }, { metadata: { name: 'n3' } });
      const renewed = (ago: number): string => new Date(Date.now() - ago).toISOString().replace('Z', '000Z');
      await n3.create(leases, { metadata: { name: 'n3' }, spec: { holderIdentity: 'n3', renewTime: renewed(0) } } as never);
      const refused = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n3' }) });
      expect(refused.status).toBe(409);
      expect(refused.body).toContain('node \\"n3\\" is alive');
      // once the lease is older than the grace period, the name may be joined again (a replaced machine)
      await n3.patch({ ...leases, name: 'n3' }, 'merge', { spec: { renewTime: renewed(60_000) } });
      const again = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n3' }) });
      expect(again.status).toBe(201);
    } finally {
      n3.close();
    }
  });

  test('a node updates the status only of pods bound to it, and cannot create pods', async () => {
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    for (const [name, nodeName] of [['mine', 'n1'], ['theirs', 'n2']]) {
      await m.client.create(pods, { metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }] } } as never);
    }
    await node.patch({ ...pods, name: 'mine', subresource: 'status' }, 'merge', { status: { phase: 'Running' } });
    await expect(node.patch({ ...pods, name: 'theirs', subresource: 'status' }, 'merge', { status: { phase: 'Running' } })).rejects.toMatchObject({ code: 403 });
    await expect(node.patch({ ...pods, name: 'mine' }, 'merge', { metadata: { labels: { a: 'b' } } })).rejects.toMatchObject({ code: 403 });
    await expect(node.create(pods, { metadata: { name: 'rogue' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as never)).rejects.toMatchObject({ code: 403 });
    const mine = await m.client.get<{ status?: { phase?: string }; metadata?: { name?: string } }>({ ...pods, name: 'mine' });
    expect(mine.status?.phase).toBe('Running');
    // The same with the pods' list cache live (status writes then start from its copy), through
    // PUT as well as PATCH, and for a pod bound to no node; neither pod changed.
    await node.list({ ...pods }, { fieldSelector: 'spec.nodeName=n1' });
    await m.client.create(pods, { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as never);
    for (const name of ['theirs', 'unbound']) {
      await expect(node.patch({ ...pods, name, subresource: 'status' }, 'merge', { status: { phase: 'Failed' } })).rejects.toMatchObject({ code: 403, message: expect.stringContaining('not bound to node n1') });
      const current = await m.client.get<{ metadata?: { name?: string }; status?: { phase?: string } }>({ ...pods, name });
      await expect(node.update({ ...pods, name, subresource: 'status' }, { ...current, status: { phase: 'Failed' } } as never)).rejects.toMatchObject({ code: 403 });
      expect((await m.client.get<{ metadata?: { name?: string }; status?: { phase?: string } }>({ ...pods, name })).status?.phase).not.toBe('Failed');
    }
    // Reads it needs are allowed.
    await expect(node.list({ ...pods })).resolves.toBeDefined();
  });

  test('a node reads only the Secrets and ConfigMaps its own pods refer to, one by one', async () => {
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const secrets = { ...cm, resource: 'secrets' };
    for (const name of ['env-secret', 'vol-secret', 'pull-secret', 'theirs-secret', 'unused-secret']) {
      await m.client.create(secrets, { metadata: { name }, stringData: { k: 'v' } } as never);
    }
    for (const name of ['projected-cm', 'envfrom-cm', 'unused-cm']) await m.client.create(cm, { metadata: { name }, data: { k: 'v' } } as never);
    await m.client.create(pods, {
      metadata: { name: 'refs' },
      spec: {
        nodeName: 'n1',
        imagePullSecrets: [{ name: 'pull-secret' }],
        initContainers: [{ name: 'i', image: 'i', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }] }],
        containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'envfrom-cm' } }] }],
        volumes: [
          { name: 's', secret: { secretName: 'vol-secret' } },
          { name: 'p', projected: { sources: [{ configMap: { name: 'projected-cm' } }] } },
        ],
      },
    } as never);
    await m.client.create(pods, { metadata: { name: 'refs-theirs' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 's', secret: { secretName: 'theirs-secret' } }] } } as never);

    for (const name of ['env-secret', 'vol-secret', 'pull-secret']) await expect(node.get({ ...secrets, name })).resolves.toMatchObject({ metadata: { name } });
    for (const name of ['projected-cm', 'envfrom-cm']) await expect(node.get({ ...cm, name })).resolves.toMatchObject({ metadata: { name } });
    await expect(node.get({ ...secrets, name: 'theirs-secret' })).rejects.toMatchObject({ code: 403, message: expect.stringContaining('no pod bound to node n1 refers to it') });
    await expect(other.get({ ...secrets, name: 'theirs-secret' })).resolves.toBeDefined();
    await expect(node.get({ ...secrets, name: 'unused-secret' })).rejects.toMatchObject({ code: 403 });
    await expect(node.get({ ...cm, name: 'unused-cm' })).rejects.toMatchObject({ code: 403 });
    await expect(node.list(secrets)).rejects.toMatchObject({ code: 403 });
    await expect(node.list(cm)).rejects.toMatchObject({ code: 403 });
    // A pod in another namespace referring to the same name grants nothing here.
    await expect(node.get({ ...secrets, namespace: 'kube-system', name: 'env-secret' })).rejects.toMatchObject({ code: 403 });
  });

  test('a node lists and watches a referenced ConfigMap by metadata.name, and nothing else that way', async () => {
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    for (const name of ['watched-cm', 'unwatched-cm']) await m.client.create(cm, { metadata: { name }, data: { k: 'v1' } } as never);
    await m.client.create(pods, { metadata: { name: 'watch-refs' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'watched-cm' } }] }] } } as never);
    const listed = await node.list(cm, { fieldSelector: 'metadata.name=watched-cm' });
    expect(listed.items.map((i) => i.metadata?.name)).toEqual(['watched-cm']);
    const seen: string[] = [];
    const handle = node.watch<{ metadata?: { name?: string }; data?: Record<string, string> }>(cm, { fieldSelector: 'metadata.name=watched-cm', resourceVersion: listed.metadata.resourceVersion }, (e) => seen.push(`${e.type} ${e.object.data?.k ?? ''}`));
    await m.client.patch({ ...cm, name: 'watched-cm' }, 'merge', { data: { k: 'v2' } });
    for (let i = 0; i < 50 && !seen.includes('MODIFIED v2'); i++) await new Promise((r) => setTimeout(r, 100));
    handle.stop();
    expect(seen).toContain('MODIFIED v2');

    await expect(node.list(cm, { fieldSelector: 'metadata.name=unwatched-cm' })).rejects.toMatchObject({ code: 403, message: expect.stringContaining('no pod bound to node n1 refers to it') });
    await expect(other.list(cm, { fieldSelector: 'metadata.name=watched-cm' })).rejects.toMatchObject({ code: 403 });
    await expect(node.list(cm, { fieldSelector: 'metadata.namespace=default' })).rejects.toMatchObject({ code: 403 });
    await expect(node.list(cm)).rejects.toMatchObject({ code: 403 });
    let refused: unknown;
    await node.watch(cm, { fieldSelector: 'metadata.name=unwatched-cm' }, () => undefined, (err) => (refused = err)).done;
    expect(refused).toMatchObject({ code: 403 });
  });

  test('when the reference index cannot tell, a node is told to retry (429, Retry-After), not answered from a scan', async () => {
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n3', addresses: ['127.0.0.1'] }) });
    const { token } = JSON.parse(r.body) as { token: string };
    await m.client.create(cm, { metadata: { name: 'lagging-cm' }, data: { k: 'v' } } as never);
    await m.client.create({ ...cm, resource: 'pods' }, { metadata: { name: 'lagging-refs' }, spec: { nodeName: 'n3', containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'lagging-cm' } }] }] } } as never);
    const path = '/api/v1/namespaces/default/configmaps/lagging-cm';
    expect((await rawRequest(m.url, m.caPem, 'GET', path, { token })).status).toBe(200);
    const lagging = jest.spyOn(NodeReferences.prototype, 'has').mockResolvedValue(undefined);
    try {
      const refused = await rawRequest(m.url, m.caPem, 'GET', path, { token });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    } finally {
      lagging.mockRestore();
    }
    expect((await rawRequest(m.url, m.caPem, 'GET', path, { token })).status).toBe(200);
  });

  test('graceful deletion: a bound pod is marked, then removed once its node deletes it with grace 0', async () => {
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const marked = await m.client.delete<{ metadata?: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }>({ ...pods, name: 'mine' });
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(30);
    await expect(m.client.get({ ...pods, name: 'mine' })).resolves.toBeDefined();
    await expect(other.delete({ ...pods, name: 'mine' })).rejects.toMatchObject({ code: 403 });
    await node.delete({ ...pods, name: 'mine' }, { gracePeriodSeconds: 0 });
    await expect(m.client.get({ ...pods, name: 'mine' })).rejects.toMatchObject({ code: 404 });
  });

  test('finalizers hold an object until they are removed', async () => {
    await m.client.create(cm, { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const marked = await m.client.delete<{ metadata?: { deletionTimestamp?: string } }>({ ...cm, name: 'held' });
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    await expect(m.client.get({ ...cm, name: 'held' })).resolves.toBeDefined();
    await m.client.patch({ ...cm, name: 'held' }, 'merge', { metadata: { finalizers: null } });
    await expect(m.client.get({ ...cm, name: 'held' })).rejects.toMatchObject({ code: 404 });
  });

  test('/metrics shows request counts by verb and resource, for admin and viewer only', async () => {
    const r = await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/apiserver_request_total\{verb="CREATE",resource="configmaps",code="201"\} \d+/);
    expect(r.body).toMatch(/apiserver_request_duration_seconds_bucket\{verb="GET",resource="pods",le="0.005"\} \d+/);
    expect((await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.joinToken })).status).toBe(403);
  });
});
