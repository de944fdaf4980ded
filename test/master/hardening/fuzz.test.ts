import fc from 'fast-check';
import YAML from 'yaml';
import { rawRequest, type RawResponse } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

/**
 * Property-based abuse of every decoder and patch path: whatever the body or query, the master
 * answers with a Status (never a 5xx, never a hang) and /readyz stays fast. Each property runs for
 * a bounded time (LOTSE_FUZZ_MS, default 4 s: about a minute for both stores) so the suite fits CI; fast-check prints the seed and
 * the shrunk input of a failure.
 */
const budgetMs = Number(process.env.LOTSE_FUZZ_MS ?? 4000);

jest.setTimeout(180_000);

const pods = '/api/v1/namespaces/default/pods';
const configmaps = '/api/v1/namespaces/default/configmaps';
const metaKeys = ['metadata', 'spec', 'status', 'data', 'kind', 'apiVersion', 'labels', 'annotations', 'name', 'containers', 'finalizers', 'ownerReferences', 'matchExpressions', 'selector', '$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', 'managedFields', 'image', 'ports', 'env', '__proto__', 'constructor'];

/** JSON values biased towards the shapes the master reads: its field names, nested objects and lists. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom(null, true, 0, -1, 1.5, 1e308, '', 'x', 'None', 'In', 'Like'), fc.string({ maxLength: 20 }), tie('obj'), tie('arr')),
  obj: fc.dictionary(fc.oneof(fc.constantFrom(...metaKeys), fc.string({ maxLength: 8 })), tie('any'), { maxKeys: 5 }),
  arr: fc.array(tie('any'), { maxLength: 4 }),
})).any;

const object = fc.record({ metadata: fc.oneof(fc.constant({ name: 'fuzz' }), value), spec: value, data: value, status: value }, { requiredKeys: ['metadata'] });

/** Deep or pathological nesting, as text. */
const deepText = fc.tuple(fc.constantFrom('[', '{"a":', '{a: ', '- ', '[{"x":'), fc.integer({ min: 1, max: 5000 })).map(([open, n]) => `${open.repeat(n)}1`);

const jsonPatchOp = fc.record({
  op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
  path: fc.constantFrom('/metadata/labels', '/metadata/labels/a', '/metadata/annotations', '/spec/containers/0', '/spec/containers/-', '/status', '/metadata/name', '', '/', '/a~1b', '/__proto__/x', '/spec/containers/99'),
  from: fc.constantFrom('/metadata', '/spec', '/spec/containers', '/metadata/labels', '/nope'),
  value,
});

/** The same document as YAML when the text is JSON, else the text itself. */
function asYaml(text: string): string {
  try {
    return YAML.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

describe.each(storeKinds)('fuzzing the decoders, patches and queries, on %s', (store) => {
  let m: TestMaster;
  const statuses = new Map<number, number>();

  const call = async (method: string, path: string, body: string | Buffer | undefined, type: string): Promise<RawResponse> => {
    const r = await rawRequest(m.url, m.caPem, method, path, { token: m.adminToken, body, headers: { 'content-type': type }, timeoutMs: 10_000 });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    return r;
  };

  /** The property every reply must have: no 5xx, and a failure is a Status carrying its code. */
  const isStatusReply = (r: RawResponse): boolean => {
    if (r.status >= 500) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    if (r.status < 400) return true;
    const body = JSON.parse(r.body) as { kind?: string; code?: number; message?: string };
    if (body.kind !== 'Status' || body.code !== r.status || !body.message) throw new Error(`HTTP ${r.status} without a Status: ${r.body.slice(0, 300)}`);
    return true;
  };

  const run = <T extends [unknown, ...unknown[]]>(prop: fc.IAsyncProperty<T>): Promise<void> =>
    fc.assert(prop, { interruptAfterTimeLimit: budgetMs, numRuns: 100_000, markInterruptAsFailure: false });

  beforeAll(async () => {
    m = await startTestMaster({ store });
    const pod = { metadata: { name: 'target', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await call('POST', pods, JSON.stringify(pod), 'application/json')).status).toBe(201);
  });
  afterAll(async () => {
    await m?.stop();
  });

  afterEach(async () => {
    // After every property the master still answers at once.
    const started = Date.now();
    const ready = await rawRequest(m.url, m.caPem, 'GET', '/readyz', { timeoutMs: 5000 });
    expect(ready.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('JSON and YAML bodies of creates', () =>
    run(
      fc.asyncProperty(fc.oneof(object.map((o) => JSON.stringify(o)), fc.string({ maxLength: 200 }), deepText), fc.constantFrom('application/json', 'application/yaml'), fc.constantFrom(pods, configmaps), async (text, type, path) => {
        const body = type === 'application/yaml' ? asYaml(text) : text;
        return isStatusReply(await call('POST', path, body, type));
      }),
    ));

  test('protobuf bodies', () =>
    run(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, magic) => {
        const body = Buffer.concat([magic ? Buffer.from([0x6b, 0x38, 0x73, 0x00]) : Buffer.alloc(0), Buffer.from(bytes)]);
        return isStatusReply(await call('POST', configmaps, body, 'application/vnd.kubernetes.protobuf'));
      }),
    ));

  test('JSON patches', () =>
    run(fc.asyncProperty(fc.array(jsonPatchOp, { maxLength: 8 }), async (ops) => isStatusReply(await call('PATCH', `${pods}/target`, JSON.stringify(ops), 'application/json-patch+json')))));

  test('merge and strategic merge patches, on the object and its status', () =>
    run(
      fc.asyncProperty(object, fc.constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json'), fc.constantFrom('', '/status'), async (patch, type, sub) =>
        isStatusReply(await call('PATCH', `${pods}/target${sub}`, JSON.stringify(patch), type)),
      ),
    ));

  test('server-side apply', () =>
    run(
      fc.asyncProperty(object, fc.constantFrom('target', 'fuzz-applied'), fc.constantFrom('fieldManager=fuzz', 'fieldManager=fuzz&force=true', ''), async (config, name, q) =>
        isStatusReply(await call('PATCH', `${pods}/${name}?${q}`, YAML.stringify({ apiVersion: 'v1', kind: 'Pod', ...config }), 'application/apply-patch+yaml')),
      ),
    ));

  test('query parameters of lists and deletes', () =>
    run(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'dryRun', 'propagationPolicy', 'gracePeriodSeconds', 'fieldValidation', 'includeObject'), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a=b', 'a in (b', 'spec.nodeName=x', 'status.phase!=', '0', '-1', '99999999999999999999', 'All', 'Foreground', 'abc'))),
        fc.constantFrom('GET', 'DELETE'),
        async (query, method) => {
          // deletecollection with dryRun=All only: a fuzzer that empties the namespace tests nothing after.
          const q = new URLSearchParams({ ...query, ...(method === 'DELETE' ? { dryRun: 'All' } : {}) });
          return isStatusReply(await call(method, `${configmaps}?${q}`, undefined, 'application/json'));
        },
      ),
    ));

  test('the fuzzers reached both acceptance and refusal', () => {
    const codes = [...statuses.keys()];
    expect(codes.some((c) => c < 300)).toBe(true);
    expect(codes.some((c) => c >= 400 && c < 500)).toBe(true);
  });
});
