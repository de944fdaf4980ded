import type { SshConnection } from './ssh-connection';

/** What the bootstrap needs to know about a machine before it changes anything there. */
export interface HostFacts {
  os: string;
  osVersion: string;
  /** `uname -m`: x86_64, aarch64... */
  arch: string;
  hostname: string;
  /** systemd runs as PID 1 (CoreOS, Flatcar, most distributions) or not (containers, the test hosts). */
  init: 'systemd' | 'none';
  root: boolean;
  node?: { path: string; version: string; major: number };
  containerEngine?: string;
  etcd?: string;
  flanneld?: string;
  /** The stack's Ignition config brought lotse-flannel.service (the flannel container). */
  flannelUnit?: boolean;
}

/** One POSIX sh script, one round trip: prints key=value lines. */
const DETECT = `
. /etc/os-release 2>/dev/null; echo "os=\${ID:-unknown}"; echo "osVersion=\${VERSION_ID:-}"
echo "arch=$(uname -m)"; echo "hostname=$(hostname 2>/dev/null || uname -n)"; echo "uid=$(id -u)"
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=none; fi
for n in node nodejs; do p=$(command -v $n 2>/dev/null) || continue; v=$("$p" --version 2>/dev/null) || continue; echo "node=$p"; echo "nodeVersion=$v"; break; done
for r in podman docker; do p=$(command -v $r 2>/dev/null) || continue; "$p" --version >/dev/null 2>&1 && { echo "containerEngine=$p"; break; }; done
p=$(command -v etcd 2>/dev/null) && echo "etcd=$p"
p=$(command -v flanneld 2>/dev/null) && echo "flanneld=$p"
[ -f /etc/systemd/system/lotse-flannel.service ] && echo flannelUnit=yes
true
`;

export async function detectHost(conn: SshConnection): Promise<HostFacts> {
  const out = await conn.run(`sh -c '${DETECT.replace(/'/g, `'\\''`)}'`, 'detecting the OS, architecture and init system');
  const kv = new Map(
    out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const nodeVersion = kv.get('nodeVersion');
  const major = nodeVersion ? Number(/^v?(\d+)/.exec(nodeVersion)?.[1] ?? 0) : 0;
  return {
    os: kv.get('os') ?? 'unknown',
    osVersion: kv.get('osVersion') ?? '',
    arch: kv.get('arch') ?? 'unknown',
    hostname: kv.get('hostname') ?? '',
    init: kv.get('init') === 'systemd' ? 'systemd' : 'none',
    root: kv.get('uid') === '0',
    node: kv.get('node') && nodeVersion ? { path: kv.get('node') as string, version: nodeVersion, major } : undefined,
    containerEngine: kv.get('containerEngine'),
    etcd: kv.get('etcd'),
    flanneld: kv.get('flanneld'),
    flannelUnit: kv.get('flannelUnit') === 'yes',
  };
}

export function describeFacts(f: HostFacts): string {
  const node = f.node ? `node ${f.node.version}` : 'no node';
  return `${f.os} ${f.osVersion} ${f.arch}, ${f.init === 'systemd' ? 'systemd' : 'no systemd'}, ${node}${f.containerEngine ? `, ${f.containerEngine.split('/').pop()}` : ''}`;
}
