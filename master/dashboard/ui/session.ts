/// <reference lib="dom" />
import { Api, ApiError } from './api';

const key = 'lotse.dashboard.token';

/** The token lives in sessionStorage: it survives a reload but not the closing of the tab. */
export function savedToken(): string | undefined {
  return sessionStorage.getItem(key) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(key, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(key);
}

/** Checks a token against the API before keeping it; answers the reason when the API refuses it. */
export async function checkToken(token: string): Promise<string | undefined> {
  try {
    await new Api(token).get('/api/v1/namespaces?limit=1');
    return undefined;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      return `The API refused this token (${err.summary()}). Copy it again from your kubeconfig: kubectl config view --raw --minify -o jsonpath='{.users[0].user.token}'`;
    }
    if (err instanceof ApiError && err.status === 403) return `This token may not read the cluster (${err.summary()}). Use the admin or viewer token, not the join token.`;
    return `Cannot check the token: ${(err as Error).message}`;
  }
}
