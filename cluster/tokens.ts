import { randomBytes } from 'node:crypto';

/** The cluster's long-lived bearer tokens, minted once on the machine that creates the cluster. */
export interface StaticTokens {
  admin: string;
  viewer: string;
  join: string;
}

/** 192 random bits, URL-safe: a bearer token nobody can guess. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}
