import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { masterControllers } from '../../../master/controllers/master-controllers';
import { kubeconfig } from '../../../master/data-dir';
import { kubectl, kubectlOk, type KubectlResult } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const forbidden = (r: KubectlResult): boolean => r.code !== 0 && /forbidden/i.test(r.stderr);

describe('RBAC, escalation prevention, impersonation and kubectl auth (kubectl 1.32)', () => {
  let m: TestMaster;
  let dir: string;
  let admin: string;
  const configs = new Map<string, string>();

  /** A kubeconfig for a ServiceAccount, with a token from `kubectl create token`. */
  async function saConfig(ns: string, sa: string): Promise<string> {
    await kubectl(admin, ['create', 'serviceaccount', sa, '-n', ns]);
    const token = (await kubectlOk(admin, ['create', 'token', sa, '-n', ns, '--duration=1h'])).trim();
    const path = join(dir, `${ns}-${sa}.kubeconfig`);
    writeFileSync(path, kubeconfig('lotse', m.url, m.caPem, `${ns}-${sa}`, token), { mode: 0o600 });
    configs.set(`${ns}/${sa}`, path);
    return path;
  }

  beforeAll(async () => {
    m = await startTestMaster({ controllers: masterControllers() });
    admin = m.kubeconfigPath;
    dir = mkdtempSync(join(tmpdir(), 'lotse-rbac-'));
    writeFileSync(join(dir, 'viewer.kubeconfig'), kubeconfig('lotse', m.url, m.caPem, 'viewer', m.viewerToken), { mode: 0o600 });
    for (const ns of ['rbac-a', 'rbac-b', 'rbac-c']) await kubectlOk(admin, ['create', 'namespace', ns]);
  }, 60_000);
  afterAll(async () => {
    await m?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the RBAC kinds and the reviews in discovery, and seeds the default roles', async () => {
    const out = await kubectlOk(admin, ['api-resources', '--api-group=rbac.authorization.k8s.io', '-o', 'name']);
    expect(out.trim().split('\n').sort()).toEqual(['clusterrolebindings.rbac.authorization.k8s.io', 'clusterroles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io', 'roles.rbac.authorization.k8s.io']);
    const reviews = await kubectlOk(admin, ['api-resources', '--api-group=authorization.k8s.io', '-o', 'name']);
    expect(reviews).toContain('selfsubjectaccessreviews.authorization.k8s.io');
    for (const role of ['cluster-admin', 'admin', 'edit', 'view']) await kubectlOk(admin, ['get', 'clusterrole', role]);
    const view = JSON.parse(await kubectlOk(admin, ['get', 'clusterrole', 'view', '-o', 'json'])) as { rules: { resources?: string[] }[] };
    const viewable = view.rules.flatMap((r) => r.resources ?? []);
    expect(viewable).toContain('pods');
    expect(viewable).not.toContain('secrets');
  });

  it('lets a ServiceAccount do exactly what its Role allows; a grant and its removal take effect within seconds', async () => {
    const robot = await saConfig('rbac-a', 'robot');
    expect(forbidden(await kubectl(robot, ['get', 'pods', '-n', 'rbac-a']))).toBe(true);
    await kubectlOk(admin, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'rbac-a']);
    let t0 = Date.now();
    await kubectlOk(admin, ['create', 'rolebinding', 'robot-reads', '--role=pod-reader', '--serviceaccount=rbac-a:robot', '-n', 'rbac-a']);
    await until('the grant', async () => (await kubectl(robot, ['get', 'pods', '-n', 'rbac-a'])).code === 0, 5000);
    const granted = Date.now() - t0;
    expect(forbidden(await kubectl(robot, ['get', 'secrets', '-n', 'rbac-a']))).toBe(true);
    expect(forbidden(await kubectl(robot, ['get', 'pods', '-n', 'rbac-b']))).toBe(true);
    expect(forbidden(await kubectl(robot, ['create', 'configmap', 'x', '-n', 'rbac-a']))).toBe(true);
    t0 = Date.now();
    await kubectlOk(admin, ['delete', 'rolebinding', 'robot-reads', '-n', 'rbac-a']);
    await until('the removal', async () => forbidden(await kubectl(robot, ['get', 'pods', '-n', 'rbac-a'])), 5000);
    const revoked = Date.now() - t0;
    expect(granted).toBeLessThan(5000);
    expect(revoked).toBeLessThan(5000);
  });

  it('answers kubectl auth can-i as the API then behaves, across subjects, verbs, resources and namespaces', async () => {
    const robot = configs.get('rbac-a/robot') ?? (await saConfig('rbac-a', 'robot'));
    await kubectlOk(admin, ['create', 'rolebinding', 'robot-reads', '--role=pod-reader', '--serviceaccount=rbac-a:robot', '-n', 'rbac-a']);
    await kubectlOk(admin, ['create', 'role', 'cm-writer', '--verb=create,delete', '--resource=configmaps', '-n', 'rbac-b']);
    await kubectlOk(admin, ['create', 'rolebinding', 'robot-writes', '--role=cm-writer', '--serviceaccount=rbac-a:robot', '-n', 'rbac-b']);
    await kubectlOk(admin, ['create', 'rolebinding', 'alice-edits', '--clusterrole=edit', '--user=alice', '-n', 'rbac-b']);
    await kubectlOk(admin, ['create', 'clusterrolebinding', 'auditors-view', '--clusterrole=view', '--group=auditors']);
    for (const ns of ['rbac-a', 'rbac-b']) await kubectlOk(admin, ['create', 'configmap', 'victim', '-n', ns]);
    const viewer = join(dir, 'viewer.kubeconfig');
    const subjects: [string, string, string[]][] = [
      ['robot', robot, []],
      ['viewer', viewer, []],
      ['alice', admin, ['--as=alice']],
      ['auditor', admin, ['--as=carol', '--as-group=auditors']],
    ];
    const ops: [string, string[], string[]][] = [
      ['list pods', ['get', 'pods'], ['list', 'pods']],
      ['list secrets', ['get', 'secrets'], ['list', 'secrets']],
      ['create configmap', ['create', 'configmap', 'new-cm', '--dry-run=server'], ['create', 'configmaps']],
      ['delete configmap', ['delete', 'configmap', 'victim', '--dry-run=server'], ['delete', 'configmap/victim']],
      ['list nodes', ['get', 'nodes'], ['list', 'nodes']],
      ['create deployment', ['create', 'deployment', 'd', '--image=busybox', '--dry-run=server'], ['create', 'deployments.apps']],
    ];
    const table: string[] = [];
    const mismatches: string[] = [];
    for (const [who, config, as] of subjects) {
      for (const ns of ['rbac-a', 'rbac-b']) {
        for (const [name, act, can] of ops) {
          const said = await kubectl(config, ['auth', 'can-i', ...can, '-n', ns, ...as]);
          const did = await kubectl(config, [...act, '-n', ns, ...as]);
          if (did.code !== 0 && !forbidden(did)) throw new Error(`${who} ${name} in ${ns} failed for another reason than authorization: ${did.stderr}`);
          const yes = said.code === 0;
          table.push(`${who} ${name} ${ns}: can-i ${yes ? 'yes' : 'no'}, API ${did.code === 0 ? 'allowed' : 'forbidden'}`);
          if (yes !== (did.code === 0)) mismatches.push(table[table.length - 1]);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // The matrix holds both answers, and the ones the roles above decide.
    expect(table).toContain('robot list pods rbac-a: can-i yes, API allowed');
    expect(table).toContain('robot list pods rbac-b: can-i no, API forbidden');
    expect(table).toContain('robot create configmap rbac-b: can-i yes, API allowed');
    expect(table).toContain('viewer list secrets rbac-a: can-i no, API forbidden');
    expect(table).toContain('viewer list nodes rbac-a: can-i yes, API allowed');
    expect(table).toContain('alice create deployment rbac-b: can-i yes, API allowed');
    expect(table).toContain('alice list secrets rbac-a: can-i no, API forbidden');
    expect(table).toContain('auditor list pods rbac-b: can-i yes, API allowed');
    expect(table).toContain('auditor create configmap rbac-a: can-i no, API forbidden');
  });

  it('refuses a Role or binding that grants more than its author holds, unless the author may escalate or bind', async () => {
    const delegate = await saConfig('rbac-c', 'delegate');
    await kubectlOk(admin, ['create', 'role', 'rbac-writer', '--verb=get,list,create,update,patch,delete', '--resource=roles,rolebindings,pods', '-n', 'rbac-c']);
    await kubectlOk(admin, ['create', 'rolebinding', 'delegate-writes', '--role=rbac-writer', '--serviceaccount=rbac-c:delegate', '-n', 'rbac-c']);
    const more = await kubectl(delegate, ['create', 'role', 'more', '--verb=get', '--resource=secrets', '-n', 'rbac-c']);
    expect(forbidden(more)).toBe(true);
    expect(more.stderr).toMatch(/attempting to grant RBAC permissions not currently held/);
    await kubectlOk(delegate, ['create', 'role', 'same', '--verb=get,list', '--resource=pods', '-n', 'rbac-c']);
    expect(forbidden(await kubectl(delegate, ['create', 'rolebinding', 'to-admin', '--clusterrole=admin', '--user=mallory', '-n', 'rbac-c']))).toBe(true);
    await kubectlOk(delegate, ['create', 'rolebinding', 'to-same', '--role=same', '--user=mallory', '-n', 'rbac-c']);
    // Editing a role to grant more is an escalation too.
    expect(forbidden(await kubectl(delegate, ['patch', 'role', 'same', '-n', 'rbac-c', '--type=json', '-p', '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"},{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}}]']))).toBe(true);
    // bind on one ClusterRole by name lets it be bound, and only that one.
    await kubectlOk(admin, ['create', 'role', 'binder', '--verb=bind', '--resource=clusterroles', '--resource-name=admin', '-n', 'rbac-c']);
    await kubectlOk(admin, ['create', 'rolebinding', 'delegate-binds', '--role=binder', '--serviceaccount=rbac-c:delegate', '-n', 'rbac-c']);
    await kubectlOk(delegate, ['create', 'rolebinding', 'to-admin', '--clusterrole=admin', '--user=mallory', '-n', 'rbac-c']);
    expect(forbidden(await kubectl(delegate, ['create', 'rolebinding', 'to-edit', '--clusterrole=edit', '--user=mallory', '-n', 'rbac-c']))).toBe(true);
    // escalate on roles lets it write any Role in the namespace.
    await kubectlOk(admin, ['create', 'role', 'escalator', '--verb=escalate', '--resource=roles', '-n', 'rbac-c']);
    await kubectlOk(admin, ['create', 'rolebinding', 'delegate-escalates', '--role=escalator', '--serviceaccount=rbac-c:delegate', '-n', 'rbac-c']);
    await kubectlOk(delegate, ['create', 'role', 'more', '--verb=get', '--resource=secrets', '-n', 'rbac-c']);
    // A binding's role never changes.
    const moved = await kubectl(admin, ['patch', 'rolebinding', 'to-same', '-n', 'rbac-c', '--type=merge', '-p', '{"roleRef":{"name":"more"}}']);
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toMatch(/cannot change roleRef/);
  });

  it('lets only holders of impersonate act as another user, group or ServiceAccount', async () => {
    const viewer = join(dir, 'viewer.kubeconfig');
    const r = await kubectl(viewer, ['get', 'pods', '-n', 'rbac-a', '--as=alice']);
    expect(forbidden(r)).toBe(true);
    expect(r.stderr).toMatch(/impersonate/);
    // The admin acts as the robot: its Role applies, not the admin's rights.
    await kubectlOk(admin, ['get', 'pods', '-n', 'rbac-a', '--as=system:serviceaccount:rbac-a:robot']);
    expect(forbidden(await kubectl(admin, ['get', 'secrets', '-n', 'rbac-a', '--as=system:serviceaccount:rbac-a:robot']))).toBe(true);
    const imp = await saConfig('rbac-c', 'impersonator');
    await kubectlOk(admin, ['create', 'clusterrole', 'as-alice', '--verb=impersonate', '--resource=users', '--resource-name=alice']);
    await kubectlOk(admin, ['create', 'clusterrolebinding', 'impersonator-as-alice', '--clusterrole=as-alice', '--serviceaccount=rbac-c:impersonator']);
    await kubectlOk(imp, ['get', 'configmaps', '-n', 'rbac-b', '--as=alice']);
    expect(forbidden(await kubectl(imp, ['get', 'configmaps', '-n', 'rbac-b', '--as=bob']))).toBe(true);
    expect(forbidden(await kubectl(imp, ['get', 'configmaps', '-n', 'rbac-b', '--as=alice', '--as-group=system:masters']))).toBe(true);
    const whoami = JSON.parse(await kubectlOk(imp, ['auth', 'whoami', '-o', 'json', '--as=alice'])) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(whoami.status.userInfo).toMatchObject({ username: 'alice', groups: ['system:authenticated'] });
  });

  it('says who you are and what you may do: kubectl auth whoami and can-i --list', async () => {
    const robot = configs.get('rbac-a/robot') as string;
    const me = JSON.parse(await kubectlOk(robot, ['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[]; uid: string } } };
    expect(me.status.userInfo.username).toBe('system:serviceaccount:rbac-a:robot');
    expect(me.status.userInfo.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:rbac-a', 'system:authenticated']);
    expect(me.status.userInfo.uid).toBe((await kubectlOk(admin, ['get', 'sa', 'robot', '-n', 'rbac-a', '-o', 'jsonpath={.metadata.uid}'])).trim());
    const list = await kubectlOk(robot, ['auth', 'can-i', '--list', '-n', 'rbac-a']);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list).not.toMatch(/^secrets/m);
    const listB = await kubectlOk(robot, ['auth', 'can-i', '--list', '-n', 'rbac-b']);
    expect(listB).toMatch(/^configmaps\s+\[\]\s+\[\]\s+\[create delete\]$/m);
    expect(listB).not.toMatch(/^pods\s/m);
    expect((await kubectlOk(admin, ['auth', 'whoami'])).replace(/\s+/g, ' ')).toMatch(/Username lotse:admin Groups \[system:masters system:authenticated\]/);
  });
});

describe('ClusterRole aggregation', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster({ controllers: masterControllers() });
  }, 60_000);
  afterAll(async () => {
    await m?.stop();
  });

  it('adds the rules of a role labelled aggregate-to-view to view, edit and admin, and drops them when the label goes', async () => {
    const rulesOf = async (role: string): Promise<string> => (await kubectlOk(m.kubeconfigPath, ['get', 'clusterrole', role, '-o', 'jsonpath={.rules[*].resources}']));
    // A resource this server does not serve (kubectl create clusterrole would refuse it): as a CRD's role would be.
    await kubectlOk(m.kubeconfigPath, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'widgets-reader', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }],
    }));
    for (const role of ['view', 'edit', 'admin']) await until(`widgets in ${role}`, async () => (await rulesOf(role)).includes('widgets'));
    await kubectlOk(m.kubeconfigPath, ['label', 'clusterrole', 'widgets-reader', 'rbac.authorization.k8s.io/aggregate-to-view-']);
    await until('widgets gone from view', async () => !(await rulesOf('view')).includes('widgets'));
    expect(await rulesOf('view')).toContain('pods');
  });
});
