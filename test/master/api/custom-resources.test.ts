import { kubectl, kubectlAt, kubectlOk, kubectlVersions } from '../../support/kubectl';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

const flat = (out: string): string => out.replace(/\s+/g, ' ');

/** A CRD in the shape operators ship: two versions, nested schema, defaults, enums, int-or-string, columns, status and scale. */
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'], categories: ['all'] },
    versions: ['v1beta1', 'v1'].map((name) => ({
      name,
      served: true,
      storage: name === 'v1',
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
      additionalPrinterColumns: [
        { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec', description: 'The cron spec defining the interval a CronJob is run' },
        { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      schema: {
        openAPIV3Schema: {
          type: 'object',
          description: 'CronTab runs an image on a schedule.',
          properties: {
            spec: {
              type: 'object',
              description: 'What the cron tab runs and when.',
              required: ['cronSpec'],
              properties: {
                cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', description: 'The schedule in cron format.' },
                image: { type: 'string', default: 'busybox:1' },
                replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
                size: { type: 'string', enum: ['small', 'large'], default: 'small' },
                port: { 'x-kubernetes-int-or-string': true },
                resources: {
                  type: 'object',
                  default: {},
                  properties: { memory: { type: 'string', default: '64Mi' }, cpu: { type: 'string' } },
                },
                env: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: 'string' } } } },
                extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
            status: {
              type: 'object',
              properties: {
                replicas: { type: 'integer' },
                selector: { type: 'string' },
                conditions: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } } },
              },
            },
          },
        },
      },
    })),
  },
};

const cronTab = (name: string, spec: Record<string, unknown>, apiVersion = 'stable.example.com/v1'): string =>
  JSON.stringify({ apiVersion, kind: 'CronTab', metadata: { name, labels: { app: 'cron' } }, spec });

describe.each(storeKinds)('CustomResourceDefinitions with kubectl 1.32 (%s store)', (store) => {
  let m: TestMaster;
  let kc: string;

  beforeAll(async () => {
    m = await startTestMaster({ store });
    kc = m.kubeconfigPath;
    await kubectlOk(kc, ['apply', '-f', '-'], JSON.stringify(crd));
    await kubectlOk(kc, ['wait', '--for=condition=Established', '--timeout=20s', 'crd/crontabs.stable.example.com']);
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('the CRD is Established with its names accepted, and its kind is discovered', async () => {
    const status = JSON.parse(await kubectlOk(kc, ['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status}'])) as Record<string, unknown>;
    expect(status.acceptedNames).toMatchObject({ kind: 'CronTab', listKind: 'CronTabList', plural: 'crontabs', singular: 'crontab', shortNames: ['ct'] });
    expect(status.storedVersions).toEqual(['v1']);
    expect(status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'NamesAccepted', status: 'True' }), expect.objectContaining({ type: 'Established', status: 'True' })]));
    const resources = await kubectlOk(kc, ['api-resources', '--api-group=stable.example.com']);
    expect(flat(resources)).toMatch(/crontabs ct stable\.example\.com\/v1 true CronTab/);
    // v1 outranks v1beta1: it is the preferred version
    const group = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis/stable.example.com'])) as { preferredVersion: { version: string } };
    expect(group.preferredVersion.version).toBe('v1');
  });

  test('an object gets its defaults, loses unknown fields, and reads in both versions', async () => {
    // kubectl validates strictly by default: an unknown field is refused, naming it
    const strict = await kubectl(kc, ['create', '-f', '-'], cronTab('defaults', { cronSpec: '*/5 * * * *', bogus: 1 }));
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('unknown field "spec.bogus"');
    await kubectlOk(kc, ['create', '--validate=false', '-f', '-'], cronTab('defaults', { cronSpec: '*/5 * * * *', bogus: 1, port: 'http', extra: { anything: { goes: true } } }));
    const obj = JSON.parse(await kubectlOk(kc, ['get', 'crontab', 'defaults', '-o', 'json'])) as { apiVersion: string; spec: Record<string, unknown>; metadata: { generation: number } };
    expect(obj.apiVersion).toBe('stable.example.com/v1');
    expect(obj.spec).toEqual({ cronSpec: '*/5 * * * *', image: 'busybox:1', replicas: 1, size: 'small', port: 'http', resources: { memory: '64Mi' }, extra: { anything: { goes: true } } });
    expect(obj.metadata.generation).toBe(1);
    const beta = JSON.parse(await kubectlOk(kc, ['get', 'crontabs.v1beta1.stable.example.com', 'defaults', '-o', 'json'])) as { apiVersion: string; spec: unknown };
    expect(beta.apiVersion).toBe('stable.example.com/v1beta1');
    expect(beta.spec).toEqual(obj.spec);
  });

  test('an invalid object is refused with a 422 that names each bad field', async () => {
    const res = await kubectl(kc, ['create', '-f', '-'], cronTab('bad', { cronSpec: 'every minute', replicas: 11, size: 'huge', port: 1.5, env: [{ value: 'x' }] }));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('The CronTab "bad" is invalid');
    expect(res.stderr).toContain(`spec.cronSpec: Invalid value: "every minute": spec.cronSpec in body should match`);
    expect(res.stderr).toContain('spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10');
    expect(res.stderr).toContain('spec.size: Unsupported value: "huge": supported values: "small", "large"');
    expect(res.stderr).toContain('spec.port: Invalid value: "number": spec.port in body must be of type integer or string');
    expect(res.stderr).toContain('spec.env[0].name: Required value');
    const missing = await kubectl(kc, ['create', '-f', '-'], cronTab('bad2', { image: 'x' }));
    expect(missing.stderr).toContain('spec.cronSpec: Required value');
    const typed = await kubectl(kc, ['create', '-f', '-'], cronTab('bad3', { cronSpec: '* * * * *', replicas: 'three' }));
    expect(typed.stderr).toContain('spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  });

  test('kubectl get shows the printer columns; -l selects; explain prints the schema', async () => {
    await kubectlOk(kc, ['apply', '-f', '-'], cronTab('columns', { cronSpec: '0 * * * *', replicas: 2 }));
    await kubectlOk(kc, ['patch', 'crontab', 'columns', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    const out = await kubectlOk(kc, ['get', 'ct', 'columns']);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+READY\s+AGE$/);
    expect(out.split('\n')[1]).toMatch(/^columns\s+0 \* \* \* \*\s+2\s+True\s+\d+s$/);
    const selected = await kubectlOk(kc, ['get', 'crontabs', '-l', 'app=cron', '-o', 'name']);
    expect(selected).toContain('crontab.stable.example.com/columns');
    const explained = flat(await kubectlOk(kc, ['explain', 'crontab.spec']));
    expect(explained).toContain('What the cron tab runs and when.');
    expect(explained).toMatch(/cronSpec <string> -required-/);
    expect(explained).toContain('The schedule in cron format.');
  });

  test('status and spec are written apart; scale reads and writes the replica paths', async () => {
    await kubectlOk(kc, ['apply', '--server-side', '-f', '-'], cronTab('scaled', { cronSpec: '0 0 * * *' }));
    // a main-resource write cannot change status
    await kubectlOk(kc, ['patch', 'crontab', 'scaled', '--type=merge', '-p', '{"status":{"replicas":7}}']);
    expect(await kubectlOk(kc, ['get', 'crontab', 'scaled', '-o', 'jsonpath={.status.replicas}'])).toBe('');
    await kubectlOk(kc, ['patch', 'crontab', 'scaled', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":1,"selector":"app=cron"}}']);
    await kubectlOk(kc, ['scale', 'crontab', 'scaled', '--replicas=3']);
    const obj = JSON.parse(await kubectlOk(kc, ['get', 'crontab', 'scaled', '-o', 'json'])) as { spec: { replicas: number }; status: { replicas: number }; metadata: { generation: number } };
    expect(obj.spec.replicas).toBe(3);
    expect(obj.status.replicas).toBe(1);
    expect(obj.metadata.generation).toBe(2);
    const scale = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs/scaled/scale'])) as { spec: unknown; status: unknown };
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 1, selector: 'app=cron' } });
    // strategic merge patches are not defined for custom resources
    const smp = await kubectl(kc, ['patch', 'crontab', 'scaled', '--type=strategic', '-p', '{"spec":{"replicas":4}}']);
    expect(smp.code).not.toBe(0);
    expect(smp.stderr).toMatch(/UnsupportedMediaType|unknown format|strategic/i);
  });

  test('after a restart the kind is served at once, and kubectl 1.27 validates against /openapi/v2', async () => {
    m = await m.restart();
    expect(await kubectlOk(kc, ['get', 'crontab', 'columns', '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
    const old = kubectlVersions().get('1.27');
    if (!old) throw new Error('kubectl 1.27 is missing: scripts/setup.sh links the Google Cloud SDK kubectl.1.NN binaries');
    const ok = await kubectlAt(old).run(kc, ['create', '-f', '-'], cronTab('from-1-27', { cronSpec: '* * * * *' }));
    expect(ok.stderr).toBe('');
    const bad = await kubectlAt(old).run(kc, ['create', '-f', '-'], cronTab('from-1-27-bad', { cronSpec: '* * * * *', bogus: true }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown field "bogus"|unknown field "spec.bogus"/);
  });

  test('a webhook conversion and a bad schema are refused with a clear message', async () => {
    const bad = structuredClone(crd) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a test fixture
    bad.metadata.name = 'widgets.stable.example.com';
    bad.spec.names = { plural: 'widgets', kind: 'Widget' };
    bad.spec.conversion = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'] } };
    bad.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.untyped = { description: 'no type' };
    const res = await kubectl(kc, ['create', '-f', '-'], JSON.stringify(bad));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('spec.conversion.strategy: Unsupported value: "Webhook"');
    expect(res.stderr).toContain('spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[untyped].type: Required value');
  });

  test('deleting the CRD deletes its objects, waiting for their finalizers, and stops serving the kind', async () => {
    await kubectlOk(kc, ['apply', '-f', '-'], JSON.stringify({ ...JSON.parse(cronTab('held', { cronSpec: '* * * * *' })), metadata: { name: 'held', finalizers: ['example.com/hold'] } }));
    await kubectlOk(kc, ['delete', 'crd', 'crontabs.stable.example.com', '--wait=false']);
    // the object without a finalizer goes, the held one waits, and no new one is accepted
    await waitUntil(async () => (await kubectl(kc, ['get', 'crontab', 'defaults'])).code !== 0);
    const held = JSON.parse(await kubectlOk(kc, ['get', 'crontab', 'held', '-o', 'json'])) as { metadata: { deletionTimestamp?: string } };
    expect(held.metadata.deletionTimestamp).toBeDefined();
    const create = await kubectl(kc, ['create', '-f', '-'], cronTab('late', { cronSpec: '* * * * *' }));
    expect(create.stderr).toContain('create not allowed while custom resource definition crontabs.stable.example.com is terminating');
    expect(await kubectlOk(kc, ['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Terminating")].status}'])).toBe('True');
    await kubectlOk(kc, ['patch', 'crontab', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await waitUntil(async () => (await kubectl(kc, ['get', 'crd', 'crontabs.stable.example.com'])).code !== 0);
    const gone = await kubectl(kc, ['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('NotFound');
    const groups = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis'])) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).not.toContain('stable.example.com');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
