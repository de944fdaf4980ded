import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { masterControllers } from '../../../master/controllers/master-controllers';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

describe('@kubernetes/client-node 1.4: RBAC, TokenRequest and the reviews', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster({ controllers: masterControllers() });
  });
  afterAll(async () => {
    await m?.stop();
  });

  it('creates roles and bindings, gets a token, and reviews it and its rights as the API enforces them', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(__dirname, 'client-node-identity.mjs')], { env: { ...process.env, KUBECONFIG: m.kubeconfigPath }, timeout: 45_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(JSON.parse(out)).toEqual({
      clusterRoles: ['admin', 'cluster-admin', 'edit', 'view'],
      tokenExpires: 'Date',
      tokenReview: { authenticated: true, username: 'system:serviceaccount:cn-identity:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:cn-identity', 'system:authenticated'] },
      canListConfigMaps: true,
      canListSecrets: false,
      rules: ['get,list'],
      whoami: 'system:serviceaccount:cn-identity:bot',
      listConfigMaps: 'listed',
      listSecrets: 403,
      subjectAccessReview: true,
    });
  });
});
