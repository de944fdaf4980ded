import fs from 'node:fs';

export interface Upstream {
  address: string;
  port: number;
}

/**
 * The node's own resolvers, read from resolv.conf, for names outside the cluster. Loopback
 * stub resolvers (systemd-resolved's 127.0.0.53) only work from the node itself, which is where
 * the DNS server runs, so they are kept.
 */
export function readUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path} for upstream resolvers: ${(err as Error).message}; pass upstreams explicitly`);
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && /^\d+\.\d+\.\d+\.\d+$/.test(m[1])) out.push({ address: m[1], port: 53 });
  }
  return out;
}
