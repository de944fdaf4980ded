import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { rotationDue, ServiceAccountTokens } from '../../agent/service-account-tokens';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { serviceAccountName: 'sa', containers: [] } };

/** Records each TokenRequest and answers it as the API does, with a token valid for the seconds asked. */
function fakeApi(now: () => number): { client: KubeClient; requests: { path: string; body: Record<string, unknown> }[] } {
  const requests: { path: string; body: Record<string, unknown> }[] = [];
  const client = {
    create: async (ref: { namespace?: string; name?: string; subresource?: string }, body: { spec: { expirationSeconds: number } }) => {
      requests.push({ path: `${ref.namespace}/${ref.name}/${ref.subresource}`, body: body as unknown as Record<string, unknown> });
      return { status: { token: `t${requests.length}`, expirationTimestamp: new Date(now() + body.spec.expirationSeconds * 1000).toISOString() } };
    },
  } as unknown as KubeClient;
  return { client, requests };
}

describe('the agent\'s ServiceAccount tokens', () => {
  afterEach(() => jest.useRealTimers());

  it('asks for a token bound to the pod, keeps it, and replaces it once 80% of its life is gone', async () => {
    jest.useFakeTimers({ now: 1_000_000_000 });
    const api = fakeApi(() => Date.now());
    const tokens = new ServiceAccountTokens(api.client);
    expect(await tokens.token(pod, undefined, 3607)).toBe('t1');
    expect(api.requests[0]).toMatchObject({ path: 'ns/sa/token', body: { spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u1' } } } });
    jest.setSystemTime(1_000_000_000 + 0.79 * 3607_000);
    expect(await tokens.token(pod, undefined, 3607)).toBe('t1');
    jest.setSystemTime(1_000_000_000 + 0.81 * 3607_000);
    expect(await tokens.token(pod, undefined, 3607)).toBe('t2');
    // Another audience is another token; a forgotten pod starts over.
    expect(await tokens.token(pod, 'vault', 3607)).toBe('t3');
    expect(api.requests[2].body).toMatchObject({ spec: { audiences: ['vault'] } });
    tokens.forget('u1');
    expect(await tokens.token(pod, undefined, 3607)).toBe('t4');
  });

  it('rotates a long-lived token after a day at most', () => {
    const issuedAt = 0;
    expect(rotationDue({ issuedAt, expiresAt: 3600_000 })).toBe(2880_000);
    expect(rotationDue({ issuedAt, expiresAt: 7 * 86_400_000 })).toBe(86_400_000);
  });
});
