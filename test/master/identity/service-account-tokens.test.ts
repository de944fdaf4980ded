import { KubeClient } from '../../../kube/client';
import { ServiceAccountTokens } from '../../../master/auth/service-account-token';
import { kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

describe('bound ServiceAccount tokens: TokenRequest, TokenReview, and what ends them', () => {
  let m: TestMaster;
  const clients: KubeClient[] = [];
  const as = (token: string): KubeClient => {
    const c = new KubeClient({ server: m.url, ca: m.caPem, token });
    clients.push(c);
    return c;
  };
  /** GET as the token: 200, 401 or 403. */
  const status = async (token: string, path = '/api/v1/namespaces/tok/pods'): Promise<number> => (await as(token).raw('GET', path)).status;
  const review = async (token: string, audiences?: string[]): Promise<{ authenticated?: boolean; user?: { username?: string; extra?: Record<string, string[]> }; error?: string }> => {
    const r = await m.client.raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
    expect(r.status).toBe(201);
    return (JSON.parse(r.body) as { status: Record<string, never> }).status;
  };

  beforeAll(async () => {
    m = await startTestMaster();
    await kubectlOk(m.kubeconfigPath, ['create', 'namespace', 'tok']);
    await kubectlOk(m.kubeconfigPath, ['create', 'serviceaccount', 'robot', '-n', 'tok']);
    await kubectlOk(m.kubeconfigPath, ['create', 'role', 'reader', '--verb=list', '--resource=pods', '-n', 'tok']);
    await kubectlOk(m.kubeconfigPath, ['create', 'rolebinding', 'robot-reads', '--role=reader', '--serviceaccount=tok:robot', '-n', 'tok']);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await m?.stop();
  });

  it('issues an ES256 JWT with the Kubernetes claims, accepted by the API and by TokenReview', async () => {
    const token = (await kubectlOk(m.kubeconfigPath, ['create', 'token', 'robot', '-n', 'tok', '--duration=20m'])).trim();
    const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    const uid = (await kubectlOk(m.kubeconfigPath, ['get', 'sa', 'robot', '-n', 'tok', '-o', 'jsonpath={.metadata.uid}'])).trim();
    expect(payload).toMatchObject({ iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:tok:robot', aud: ['https://kubernetes.default.svc.cluster.local'], 'kubernetes.io': { namespace: 'tok', serviceaccount: { name: 'robot', uid } } });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(1200);
    expect(await status(token)).toBe(200);
    expect(await status(token, '/api/v1/namespaces/tok/secrets')).toBe(403);
    expect(await review(token)).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:tok:robot' } });
    // Another audience is another service's token: not for this API.
    expect((await review(token, ['https://vault.example'])).authenticated).toBe(false);
    const vault = (await kubectlOk(m.kubeconfigPath, ['create', 'token', 'robot', '-n', 'tok', '--audience=https://vault.example'])).trim();
    expect(await status(vault)).toBe(401);
    expect((await review(vault, ['https://vault.example'])).authenticated).toBe(true);
    // A tampered payload breaks the signature.
    const parts = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url');
    expect(await status(`${parts[0]}.${forged}.${parts[2]}`)).toBe(401);
  });

  it('rejects an expired token', async () => {
    // The master's own key, from its data dir, signs a token that ran out two minutes ago.
    const signer = await ServiceAccountTokens.open(m.dataDir, m.store);
    const uid = (await kubectlOk(m.kubeconfigPath, ['get', 'sa', 'robot', '-n', 'tok', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const claims = { sub: 'system:serviceaccount:tok:robot', aud: ['https://kubernetes.default.svc.cluster.local'], 'kubernetes.io': { namespace: 'tok', serviceaccount: { name: 'robot', uid } } };
    const fresh = signer.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 });
    const expired = signer.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 120 });
    expect(await status(fresh)).toBe(200);
    expect(await status(expired)).toBe(401);
    expect((await review(expired)).authenticated).toBe(false);
  });

  it('ends a pod-bound token with its pod, and every token with its ServiceAccount', async () => {
    await kubectlOk(m.kubeconfigPath, ['run', 'holder', '-n', 'tok', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"robot"}}']);
    const bound = (await kubectlOk(m.kubeconfigPath, ['create', 'token', 'robot', '-n', 'tok', '--bound-object-kind=Pod', '--bound-object-name=holder'])).trim();
    const unbound = (await kubectlOk(m.kubeconfigPath, ['create', 'token', 'robot', '-n', 'tok'])).trim();
    const claims = JSON.parse(Buffer.from(bound.split('.')[1], 'base64url').toString()) as { 'kubernetes.io': { pod?: { name: string } } };
    expect(claims['kubernetes.io'].pod?.name).toBe('holder');
    expect(await review(bound)).toMatchObject({ authenticated: true, user: { extra: { 'authentication.kubernetes.io/pod-name': ['holder'] } } });
    expect(await status(bound)).toBe(200);
    await kubectlOk(m.kubeconfigPath, ['delete', 'pod', 'holder', '-n', 'tok', '--wait=true']);
    expect(await status(bound)).toBe(401);
    expect(await status(unbound)).toBe(200);
    // A token cannot be bound to a pod of another ServiceAccount.
    await kubectlOk(m.kubeconfigPath, ['run', 'other', '-n', 'tok', '--image=busybox']);
    const wrong = await m.client.raw('POST', '/api/v1/namespaces/tok/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'other' } } });
    expect(wrong.status).toBe(400);
    // Deleting the ServiceAccount ends its tokens; one of the same name made again does not revive them.
    await kubectlOk(m.kubeconfigPath, ['delete', 'sa', 'robot', '-n', 'tok']);
    expect(await status(unbound)).toBe(401);
    await kubectlOk(m.kubeconfigPath, ['create', 'serviceaccount', 'robot', '-n', 'tok']);
    expect(await status(unbound)).toBe(401);
    const renewed = (await kubectlOk(m.kubeconfigPath, ['create', 'token', 'robot', '-n', 'tok'])).trim();
    expect(await status(renewed)).toBe(200);
  });

  it('refuses durations under ten minutes and caps long ones', async () => {
    const short = await m.client.raw('POST', '/api/v1/namespaces/tok/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } });
    expect(short.status).toBe(422);
    const long = JSON.parse((await m.client.raw('POST', '/api/v1/namespaces/tok/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 10 * 365 * 86400 } })).body) as { spec: { expirationSeconds: number } };
    expect(long.spec.expirationSeconds).toBe(48 * 3600);
  });
});
