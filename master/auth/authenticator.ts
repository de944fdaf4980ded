import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { StaticTokens } from '../../cluster/tokens';
import { BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAPPERS, bootstrapTokenFields, bootstrapTokenRefusal, bootstrapTokenSecretName, parseBootstrapToken, type BootstrapToken, type StoredSecret } from '../../cluster/bootstrap-token';
import { clientCertificateIdentity } from './client-certificate';
import { AUTHENTICATED, adminIdentity, joinIdentity, nodeIdentity, serviceAccountIdentity, viewerIdentity, type Identity } from './identity';
import type { IssuedNodeCredential, NodeCredentials } from './node-credentials';
import { API_AUDIENCE, type ServiceAccountTokens, type TokenClaims } from './service-account-token';

/** The uid and deletion time of a stored object, which bound tokens are checked against. */
export type ObjectLookup = (resource: 'serviceaccounts' | 'pods' | 'nodes', namespace: string | undefined, name: string) => Promise<{ uid?: string; deletionTimestamp?: string } | undefined>;

/** Reads a Secret in kube-system (where bootstrap tokens live). */
export type SecretLookup = (namespace: string, name: string) => Promise<StoredSecret | undefined>;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Bearer-token authentication. Static tokens (admin, viewer, join) live in the data dir;
 * bootstrap tokens (`ID.SECRET`, expiring) are Secrets in kube-system and may join nodes like the
 * join token; node credentials are issued at join time with an expiry and kept in the store (only
 * their SHA-256), so every master on one etcd accepts them. ServiceAccount tokens are JWTs the
 * masters sign; they hold only while their ServiceAccount (and the pod they are bound to) still
 * exists with the uid they name.
 */
export class Authenticator {
  /**
   * The static tokens' digests, made once. Digests are what gets compared, so the time taken says
   * nothing about how much of a token matched; the presented token is hashed once per request.
   */
  private readonly staticDigests: [Buffer, Identity][];

  constructor(
    tokens: StaticTokens,
    readonly nodeCredentials: NodeCredentials,
    private readonly secrets: SecretLookup,
    private readonly serviceAccounts?: { tokens: ServiceAccountTokens; lookup: ObjectLookup },
  ) {
    this.staticDigests = [[sha256(tokens.admin), adminIdentity], [sha256(tokens.viewer), viewerIdentity], [sha256(tokens.join), joinIdentity]];
  }

  /**
   * A request's identity: a client certificate signed by the cluster CA wins, as in Kubernetes'
   * union of authenticators (x509 first), else the bearer token.
   */
  async authenticateRequest(req: IncomingMessage): Promise<Identity | undefined> {
    return clientCertificateIdentity(req.socket as TLSSocket) ?? this.authenticate(req.headers.authorization);
  }

  async authenticate(authorization: string | undefined): Promise<Identity | undefined> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return undefined;
    return this.authenticateToken(m[1]);
  }

  /** The identity a bearer token stands for (TokenReview asks the same with a token in its body). */
  async authenticateToken(token: string, audiences: string[] = [API_AUDIENCE]): Promise<Identity | undefined> {
    if (this.serviceAccounts && token.startsWith('eyJ') && token.split('.').length === 3) return this.serviceAccount(token, audiences);
    const digest = sha256(token);
    for (const [known, identity] of this.staticDigests) if (timingSafeEqual(digest, known)) return identity;
    const bootstrap = parseBootstrapToken(token);
    if (bootstrap) return this.bootstrapToken(bootstrap);
    const nodeName = await this.nodeCredentials.nodeOf(digest.toString('hex'));
    return nodeName === undefined ? undefined : nodeIdentity(nodeName);
  }

  /** A bootstrap token's identity, as Kubernetes names it: system:bootstrap:ID in system:bootstrappers. */
  private async bootstrapToken(presented: BootstrapToken): Promise<Identity | undefined> {
    const secret = await this.secrets(BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenSecretName(presented.id));
    if (bootstrapTokenRefusal(presented, secret) !== undefined) return undefined;
    const extra = bootstrapTokenFields(secret as StoredSecret)?.extraGroups.filter((g) => g.startsWith('system:bootstrappers:')) ?? [];
    return { user: `system:bootstrap:${presented.id}`, groups: [BOOTSTRAPPERS, ...extra, AUTHENTICATED], role: 'join' };
  }

  private async serviceAccount(token: string, audiences: string[]): Promise<Identity | undefined> {
    const sa = this.serviceAccounts as { tokens: ServiceAccountTokens; lookup: ObjectLookup };
    const claims = await sa.tokens.verify(token, audiences);
    if (!claims) return undefined;
    const k = claims['kubernetes.io'];
    const account = await sa.lookup('serviceaccounts', k.namespace, k.serviceaccount.name);
    if (!account || account.uid !== k.serviceaccount.uid) return undefined;
    if (k.pod) {
      const pod = await sa.lookup('pods', k.namespace, k.pod.name);
      if (!pod || pod.uid !== k.pod.uid) return undefined;
      // A pod being deleted keeps its token through its grace period, not after.
      if (pod.deletionTimestamp && Date.parse(pod.deletionTimestamp) < Date.now()) return undefined;
    }
    return serviceAccountIdentity(k.namespace, k.serviceaccount.name, k.serviceaccount.uid, extraOf(claims));
  }

  /** Issues a fresh credential for a node; earlier ones of that node hold until they expire or are revoked. */
  issueNodeToken(nodeName: string): Promise<IssuedNodeCredential> {
    return this.nodeCredentials.issue(nodeName);
  }

  stop(): void {
    this.nodeCredentials.stop();
  }
}

function extraOf(claims: TokenClaims): Record<string, string[]> {
  const k = claims['kubernetes.io'];
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  return extra;
}
