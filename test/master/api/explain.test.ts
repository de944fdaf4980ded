import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';
import { freePort, startMasterProcess, type MasterProcess } from '../../support/master-process';

jest.setTimeout(120_000);

/** kubectl wraps descriptions at 80 columns; compare text with the line breaks undone. */
const flat = (out: string): string => out.replace(/\s+/g, ' ');

// Explain reads only the OpenAPI documents, which do not depend on the store: one store is enough.
describe('kubectl 1.32 explain against a lotse master', () => {
  let m: TestMaster;

  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('a field prints its description and its type with the type description', async () => {
    const out = flat(await kubectlOk(m.kubeconfigPath, ['explain', 'pods.spec.containers']));
    expect(out).toMatch(/FIELD: containers <\[\]V1Container>/);
    expect(out).toContain('List of containers belonging to the pod.');
    expect(out).toContain('A single application container that you want to run within a pod.');
    // and the fields below it, each with its own
    expect(out).toContain('Arguments to the entrypoint.');
  });

  test('a field of a kind in a named group prints its description', async () => {
    const out = flat(await kubectlOk(m.kubeconfigPath, ['explain', 'deployment.spec.replicas']));
    expect(out).toMatch(/GROUP: apps KIND: Deployment VERSION: v1/);
    expect(out).toMatch(/FIELD: replicas <integer>/);
    expect(out).toContain('Number of desired pods.');
  });

  test('a kind prints its own description', async () => {
    const out = flat(await kubectlOk(m.kubeconfigPath, ['explain', 'pods']));
    expect(out).toContain('Pod is a collection of containers that can run on a host.');
  });

  test('--recursive still prints the whole field tree', async () => {
    const out = await kubectlOk(m.kubeconfigPath, ['explain', 'pods', '--recursive']);
    expect(out).toMatch(/^ {2}spec\t<V1PodSpec>$/m);
    expect(out).toMatch(/^ {4}containers\t<\[\]V1Container>$/m);
    expect(out).toMatch(/^ {6}image\t<string>$/m);
  });
});

// The descriptions are read from a JSON file beside the compiled module, which tsc copies to
// dist/ only because tsconfig.build.json lists it: check the built `lotse master` serves them.
describe('kubectl explain against the built lotse master process', () => {
  let dataDir: string;
  let master: MasterProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lotse-explain-'));
    master = await startMasterProcess(dataDir, await freePort(), ['--no-controllers']);
  });
  afterAll(async () => {
    await master?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints field descriptions', async () => {
    const out = flat(await kubectlOk(join(dataDir, 'admin.kubeconfig'), ['explain', 'pods.spec.containers']));
    expect(out).toContain('List of containers belonging to the pod.');
  });
});
