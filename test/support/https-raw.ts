import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to a test master with an arbitrary token and body (for protocol-level checks). */
export function rawRequest(server: string, caPem: string, method: string, path: string, opts: { token?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawResponse> {
  const url = new URL(server);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, path, method, ca: caPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
