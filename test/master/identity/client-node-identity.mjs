// Driven by client-node-identity.test.ts: @kubernetes/client-node 1.4 (ESM-only) in its own
// process, against the kubeconfig in KUBECONFIG. Prints one JSON object with what it saw.
import * as k8s from '@kubernetes/client-node';

const kc = new k8s.KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG);
const core = kc.makeApiClient(k8s.CoreV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
const ns = 'cn-identity';

/** A client for the same cluster that presents `token`. */
function asToken(token) {
  const other = new k8s.KubeConfig();
  other.loadFromOptions({
    clusters: kc.clusters,
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: kc.getCurrentCluster().name, user: 'sa' }],
    currentContext: 'sa',
  });
  return other;
}

const out = {};
await core.createNamespace({ body: { metadata: { name: ns } } });
await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'bot' } } });
await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] } });
await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'bot-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: ns }] } });
out.clusterRoles = (await rbac.listClusterRole()).items.map((r) => r.metadata.name).filter((n) => ['cluster-admin', 'admin', 'edit', 'view'].includes(n)).sort();
const tr = await core.createNamespacedServiceAccountToken({ name: 'bot', namespace: ns, body: { spec: { expirationSeconds: 900 } } });
const token = tr.status.token;
out.tokenExpires = tr.status.expirationTimestamp instanceof Date ? 'Date' : typeof tr.status.expirationTimestamp;
const review = await authn.createTokenReview({ body: { spec: { token } } });
out.tokenReview = { authenticated: review.status.authenticated, username: review.status.user?.username, groups: review.status.user?.groups };
const bot = asToken(token);
const botAuthz = bot.makeApiClient(k8s.AuthorizationV1Api);
const ask = async (verb, resource) => (await botAuthz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: ns, verb, resource } } } })).status.allowed;
out.canListConfigMaps = await ask('list', 'configmaps');
out.canListSecrets = await ask('list', 'secrets');
const rules = await botAuthz.createSelfSubjectRulesReview({ body: { spec: { namespace: ns } } });
out.rules = rules.status.resourceRules.filter((r) => r.resources.includes('configmaps')).map((r) => r.verbs.join(','));
out.whoami = (await bot.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} })).status.userInfo.username;
const botCore = bot.makeApiClient(k8s.CoreV1Api);
out.listConfigMaps = Array.isArray((await botCore.listNamespacedConfigMap({ namespace: ns })).items) ? 'listed' : 'no items';
try {
  await botCore.listNamespacedSecret({ namespace: ns });
  out.listSecrets = 'allowed';
} catch (err) {
  out.listSecrets = err.code;
}
const sar = await authz.createSubjectAccessReview({ body: { spec: { user: `system:serviceaccount:${ns}:bot`, groups: ['system:serviceaccounts'], resourceAttributes: { namespace: ns, verb: 'get', resource: 'configmaps' } } } });
out.subjectAccessReview = sar.status.allowed;
process.stdout.write(JSON.stringify(out) + '\n');
