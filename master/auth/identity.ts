/** Who a request comes from, as the authenticator establishes it. */
export type Role = 'admin' | 'viewer' | 'node' | 'join';

export interface Identity {
  user: string;
  groups: string[];
  role: Role;
  /** Set for role 'node': the only Node this identity may act for. */
  nodeName?: string;
}

export const adminIdentity: Identity = { user: 'lotse:admin', groups: ['system:masters'], role: 'admin' };
export const viewerIdentity: Identity = { user: 'lotse:viewer', groups: ['lotse:viewers'], role: 'viewer' };
export const joinIdentity: Identity = { user: 'lotse:join', groups: ['system:bootstrappers'], role: 'join' };

export function nodeIdentity(nodeName: string): Identity {
  return { user: `system:node:${nodeName}`, groups: ['system:nodes'], role: 'node', nodeName };
}
