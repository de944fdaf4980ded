/// <reference lib="dom" />

/** A Kubernetes Status body, as the API answers errors. */
interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** An API call that failed, with the API's own words for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** "401 Unauthorized" or "503 ServiceUnavailable: node n1 has not reported ...", without saying a word twice. */
  summary(): string {
    const head = this.status ? `${this.status} ${this.reason}` : this.reason;
    return this.message && this.message !== this.reason ? `${head}: ${this.message}` : head;
  }
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Same-origin calls to the master's API; every call carries the user's bearer token. */
export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: (err: ApiError) => void = () => undefined,
  ) {}

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await this.call('GET', path, undefined, undefined, signal)).json() as Promise<T>;
  }

  async patch<T>(path: string, body: unknown, type: 'merge' | 'strategic'): Promise<T> {
    const contentType = type === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json';
    return (await this.call('PATCH', path, JSON.stringify(body), contentType)).json() as Promise<T>;
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', path);
  }

  /** Opens a streamed response (watch or log follow); the caller reads its body. */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await this.call('GET', path, undefined, undefined, signal);
    if (!res.body) throw new ApiError(0, 'NoBody', `${path} answered without a body to stream`);
    return res.body;
  }

  private async call(method: string, path: string, body?: string, contentType?: string, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    let res: Response | undefined;
    // Browsers drop requests in flight when the machine's addresses change (ERR_NETWORK_CHANGED:
    // Wi-Fi, VPNs, container networks coming and going); one quiet retry hides that. The writes
    // this page sends are idempotent (set replicas, set an annotation, delete), so a repeat is safe.
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await fetch(path, { method, headers, body, signal, cache: 'no-store' });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        if (attempt >= 2) throw new ApiError(0, 'Unreachable', `the master did not answer ${method} ${path}: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    if (res.ok) return res;
    const err = await errorOf(res, method, path);
    if (res.status === 401) this.onUnauthorized(err);
    throw err;
  }
}

async function errorOf(res: Response, method: string, path: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let status: StatusBody = {};
  try {
    status = JSON.parse(text) as StatusBody;
  } catch {
    status = { message: text.trim() };
  }
  const reason = status.reason || res.statusText || 'Error';
  const message = status.message || `${method} ${path} failed`;
  return new ApiError(res.status, reason, message);
}

/** Splits a byte stream into lines, as watch and log streams send them. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        yield buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
      }
    }
    buffered += decoder.decode();
    if (buffered) yield buffered;
  } finally {
    reader.releaseLock();
  }
}
