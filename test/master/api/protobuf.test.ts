import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { decodeProtobufObject } from '../../../master/api/protobuf/decode-protobuf';
import { k8sSubsetPackage, k8sSubsetProto } from '../../../master/api/protobuf/k8s-subset';
import { HttpError } from '../../../master/api/status';
import { startMaster, type RunningMaster } from '../../../master/server';

// Test-only: objects read back from kubectl are walked freely in assertions.
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const magic = Buffer.from('k8s\0', 'binary');

/** Hand-assembles a runtime.Unknown envelope, independent of the decoder's schema. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Buffer {
  const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string(apiVersion).uint32((2 << 3) | 2).string(kind).finish();
  const w = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(raw);
  if (contentEncoding) w.uint32((3 << 3) | 2).string(contentEncoding);
  return Buffer.concat([magic, w.finish()]);
}

function decodeError(body: Buffer): HttpError {
  try {
    decodeProtobufObject(body);
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('decodeProtobufObject accepted a body it should have refused');
}

describe('decodeProtobufObject', () => {
  test('reads a hand-written ConfigMap: wire field numbers, empty map values kept, Go zero values dropped', () => {
    const meta = protobuf.Writer.create()
      .uint32((1 << 3) | 2).string('cm') // name
      .uint32((2 << 3) | 2).string('') // generateName: Go writes it even when empty
      .uint32((8 << 3) | 2).bytes(new Uint8Array()) // creationTimestamp: the zero Time
      .finish();
    const entry = (k: string, v: string): Uint8Array => protobuf.Writer.create().uint32((1 << 3) | 2).string(k).uint32((2 << 3) | 2).string(v).finish();
    const raw = protobuf.Writer.create()
      .uint32((1 << 3) | 2).bytes(meta)
      .uint32((2 << 3) | 2).bytes(entry('a', 'b'))
      .uint32((2 << 3) | 2).bytes(entry('empty', ''))
      .uint32((99 << 3) | 0).uint32(7) // a field this server does not know: skipped
      .finish();
    expect(decodeProtobufObject(envelope('v1', 'ConfigMap', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { a: 'b', empty: '' },
    });
  });

  test('keeps pointer fields that are zero, flattens embedded structs, spells Quantity, IntOrString and Time as JSON does', () => {
    const root = protobuf.parse(k8sSubsetProto, { keepCase: true }).root;
    const Deployment = root.lookupType(`${k8sSubsetPackage}.Deployment`);
    const raw = Deployment.encode(
      Deployment.fromObject({
        metadata: { name: 'd', creationTimestamp: { seconds: 1700000000 } },
        spec: {
          replicas: 0,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '25%' }, maxUnavailable: { type: 0, intVal: 0 } } },
          template: {
            spec: {
              restartPolicy: '',
              terminationGracePeriodSeconds: 0,
              volumes: [{ name: 'scratch', volumeSource: { emptyDir: {} } }],
              containers: [
                {
                  name: 'c',
                  image: 'img',
                  resources: { limits: { cpu: { string: '500m' } } },
                  env: [{ name: 'FROM_CM', valueFrom: { configMapKeyRef: { localObjectReference: { name: 'cm' }, key: 'k' } } }],
                  readinessProbe: { handler: { httpGet: { path: '/', port: { type: 1, strVal: 'http' } } }, periodSeconds: 5 },
                },
              ],
            },
          },
        },
      }),
    ).finish();
    const d = decodeProtobufObject(envelope('apps/v1', 'Deployment', raw)) as Obj;
    expect(d.metadata).toEqual({ name: 'd', creationTimestamp: '2023-11-14T22:13:20Z' });
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    const pod = d.spec.template.spec;
    expect(pod).not.toHaveProperty('restartPolicy');
    expect(pod.terminationGracePeriodSeconds).toBe(0);
    expect(pod.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    expect(pod.containers[0]).toEqual({
      name: 'c',
      image: 'img',
      resources: { limits: { cpu: '500m' } },
      env: [{ name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }],
      readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
    });
  });

  test('reads DeleteOptions in whatever group version a typed client sends them, keeping a zero grace period', () => {
    const raw = protobuf.Writer.create()
      .uint32((1 << 3) | 0).int64(0) // gracePeriodSeconds: a pointer, so 0 means "now"
      .uint32((4 << 3) | 2).string('Foreground')
      .finish();
    for (const apiVersion of ['v1', 'apps/v1', 'meta.k8s.io/v1']) {
      expect(decodeProtobufObject(envelope(apiVersion, 'DeleteOptions', raw))).toEqual({ apiVersion, kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground' });
    }
  });

  test.each([
    ['no k8s prefix', Buffer.from('{"kind":"ConfigMap"}'), 400, /does not start with the Kubernetes protobuf prefix/],
    ['an empty body', Buffer.alloc(0), 400, /does not start with/],
    ['garbage after the prefix', Buffer.concat([magic, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])]), 400, /runtime.Unknown envelope is malformed/],
    ['a truncated object', envelope('v1', 'ConfigMap', Buffer.from([0x0a, 0x40, 0x0a])), 400, /the ConfigMap object is malformed/],
    ['no kind', envelope('', '', new Uint8Array()), 400, /names no apiVersion\/kind/],
    ['a compressed object', envelope('v1', 'ConfigMap', new Uint8Array(), 'gzip'), 415, /contentEncoding "gzip"/],
    ['an unsupported kind', envelope('apps/v1', 'StatefulSet', new Uint8Array()), 415, /cannot decode StatefulSet \(apps\/v1\).*kubectl apply -f/],
  ])('refuses %s with a clear status', (_what, body, code, message) => {
    const err = decodeError(body);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });
});

function runVerbose(kubeconfig: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

async function run(kubeconfig: string, args: string[]): Promise<string> {
  return (await runVerbose(kubeconfig, args)).stdout;
}

async function getJson(kubeconfig: string, ...what: string[]): Promise<Obj> {
  return JSON.parse(await run(kubeconfig, ['get', ...what, '-o', 'json'])) as Obj;
}

function send(m: RunningMaster, method: string, path: string, body: Buffer, contentType: string): Promise<{ status: number; body: Obj }> {
  const url = new URL(m.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path, method, ca: m.caPem, headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': contentType, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Obj }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('kubectl create (protobuf bodies) against a lotse master', () => {
  let dir: string;
  let m: RunningMaster;
  let kc: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-protobuf-'));
    m = await startMaster({ dataDir: dir, listen: '127.0.0.1:0' });
    kc = m.kubeconfigPath;
  });
  afterAll(async () => {
    await m?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('configmap (and kubectl does send protobuf)', async () => {
    const { stderr } = await runVerbose(kc, ['create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=x=y', '-v=8']);
    // -v=8 logs request headers: this suite only means something while kubectl really sends protobuf.
    expect(stderr).toMatch(/Content-Type: application\/vnd\.kubernetes\.protobuf/);
    const cm = await getJson(kc, 'configmap', 'c');
    expect(cm.data).toEqual({ a: 'b', x: 'y' });
    expect(cm.metadata.namespace).toBe('default');
    expect(cm.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  test('secret generic: data arrives base64-encoded', async () => {
    await run(kc, ['create', 'secret', 'generic', 's', '--from-literal=p=q']);
    const s = await getJson(kc, 'secret', 's');
    expect(s.data).toEqual({ p: Buffer.from('q').toString('base64') });
    expect(s.type).toBe('Opaque');
  });

  test('namespace and serviceaccount', async () => {
    await run(kc, ['create', 'namespace', 'n']);
    expect((await getJson(kc, 'namespace', 'n')).metadata.name).toBe('n');
    await run(kc, ['create', 'serviceaccount', 'sa', '-n', 'n']);
    const sa = await getJson(kc, 'serviceaccount', 'sa', '-n', 'n');
    expect(sa.metadata).toMatchObject({ name: 'sa', namespace: 'n' });
  });

  test('deployment: replicas, selector, template labels, container port', async () => {
    await run(kc, ['create', 'deployment', 'd', '--image=img:1', '--port=8080', '--replicas=2']);
    const d = await getJson(kc, 'deployment', 'd');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'd' } });
    expect(d.spec.template.metadata.labels).toEqual({ app: 'd' });
    const [c] = d.spec.template.spec.containers;
    expect(c).toMatchObject({ name: 'img', image: 'img:1', ports: [{ containerPort: 8080 }] });
    // Empty strings kubectl's typed object carries must not reach the store as "".
    expect(d.spec.template.spec.restartPolicy).not.toBe('');
    expect(c.terminationMessagePath).not.toBe('');
  });

  test('deployment with --replicas=0 keeps the explicit zero', async () => {
    await run(kc, ['create', 'deployment', 'zero', '--image=img:1', '--replicas=0']);
    expect((await getJson(kc, 'deployment', 'zero')).spec.replicas).toBe(0);
  });

  test('service nodeport: ports, numeric targetPort, type', async () => {
    await run(kc, ['create', 'service', 'nodeport', 's', '--tcp=80:8080']);
    const s = await getJson(kc, 'service', 's');
    expect(s.spec.type).toBe('NodePort');
    expect(s.spec.selector).toEqual({ app: 's' });
    expect(s.spec.ports).toHaveLength(1);
    expect(s.spec.ports[0]).toMatchObject({ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 });
    expect(typeof s.spec.ports[0].nodePort).toBe('number');
  });

  test('ingress: class, hosts, exact and prefix paths, named and numbered ports, TLS, default backend', async () => {
    await run(kc, ['create', 'ingress', 'ing', '--class=lotse', '--rule=shop.example.com/*=shop:80,tls=shop-tls', '--rule=api.example.com/v1=api:http', '--default-backend=fallback:8080']);
    const i = await getJson(kc, 'ingress', 'ing');
    expect(i.spec).toEqual({
      ingressClassName: 'lotse',
      defaultBackend: { service: { name: 'fallback', port: { number: 8080 } } },
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } },
        { host: 'api.example.com', http: { paths: [{ path: '/v1', pathType: 'Exact', backend: { service: { name: 'api', port: { name: 'http' } } } }] } },
      ],
    });
  });

  test('service clusterip', async () => {
    await run(kc, ['create', 'service', 'clusterip', 'cip', '--tcp=5678:http']);
    const s = await getJson(kc, 'service', 'cip');
    expect(s.spec.type).toBe('ClusterIP');
    expect(s.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(s.spec.ports[0]).toMatchObject({ port: 5678, targetPort: 'http' });
  });

  test('kubectl debug --copy-to: a whole defaulted PodSpec sent as protobuf comes back unchanged', async () => {
    await run(kc, ['run', 'orig', '--image=img:1', '--env=A=b', '--port=80', '--labels=x=y', '--', 'sh', '-c', 'sleep 1']);
    await run(kc, ['debug', 'orig', '--copy-to=copy', '--image=dbg:1', '--container=dbg']);
    const orig = (await getJson(kc, 'pod', 'orig')).spec;
    const copy = (await getJson(kc, 'pod', 'copy')).spec;
    const [first, added] = copy.containers;
    expect(first).toEqual(orig.containers[0]);
    expect(first).toMatchObject({ args: ['sh', '-c', 'sleep 1'], env: [{ name: 'A', value: 'b' }], ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(added).toMatchObject({ name: 'dbg', image: 'dbg:1' });
    expect({ ...copy, containers: undefined }).toEqual({ ...orig, containers: undefined });
  });

  test('kubectl debug node: hostPath volume, mounts, privileged, tolerations, host namespaces', async () => {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('kubectl', ['--kubeconfig', kc, 'apply', '-f', '-'], { timeout: 20_000 }, (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve()));
      child.stdin?.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }));
    });
    const out = await run(kc, ['debug', 'node/n1', '--image=dbg:1', '--profile=sysadmin']);
    const name = /pod (node-debugger-n1-\S+)/.exec(out)?.[1];
    expect(name).toBeDefined();
    const spec = (await getJson(kc, 'pod', String(name))).spec;
    expect(spec).toMatchObject({
      nodeName: 'n1',
      hostPID: true,
      hostNetwork: true,
      hostIPC: true,
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }],
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
    });
    expect(spec.containers[0]).toMatchObject({ name: 'debugger', image: 'dbg:1', securityContext: { privileged: true }, volumeMounts: [{ name: 'host-root', mountPath: '/host' }] });
  });

  test('a malformed protobuf body gets a 400 Status and the master keeps serving', async () => {
    const r = await send(m, 'POST', '/api/v1/namespaces/default/configmaps', Buffer.concat([magic, Buffer.from([0x0a, 0x7f, 0x01])]), 'application/vnd.kubernetes.protobuf');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    expect(r.body.message).toMatch(/error decoding protobuf/);
    const unsupported = await send(m, 'POST', '/api/v1/namespaces/default/configmaps', envelope('v1', 'ReplicationController', new Uint8Array()), 'application/vnd.kubernetes.protobuf');
    expect(unsupported.status).toBe(415);
    expect(unsupported.body.message).toMatch(/ReplicationController.*kubectl apply -f/);
    expect((await getJson(kc, 'configmap', 'c')).data).toEqual({ a: 'b', x: 'y' });
  });

  test('DELETE with protobuf DeleteOptions (as typed Go clients send them)', async () => {
    await run(kc, ['create', 'configmap', 'gone']);
    const opts = protobuf.Writer.create().uint32((4 << 3) | 2).string('Background').finish();
    const r = await send(m, 'DELETE', '/api/v1/namespaces/default/configmaps/gone', envelope('v1', 'DeleteOptions', opts), 'application/vnd.kubernetes.protobuf');
    expect(r.status).toBe(200);
    expect(await run(kc, ['get', 'configmaps', '-o', 'name'])).not.toMatch(/configmap\/gone/);
  });
});
