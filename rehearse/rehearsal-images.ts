import type { ClusterConfig } from '../stacks/config/cluster-config';
import { ensureLocalImage, type LocalImageSpec } from './local-image';

/** What the rehearsal's images are made of, on this machine. */
export interface RehearsalImageInputs {
  readonly rootfs: string;
  /** The Node.js build the hosts get (the stand-in runs on it). */
  readonly node: string;
  /** lotse.js, which carries `lotse flanneld-standin`. */
  readonly bundle: string;
  /** Debian's etcd-server binary on this machine. */
  readonly etcd?: string;
}

const STANDIN = '/opt/lotse-standin';

/**
 * The hosts cannot reach a registry, so the two images the stack's units run are made here under
 * the stack's own references: etcd from Debian's etcd binary (the real etcd, 3.4 where the stack
 * pins 3.5), and flannel's reference holding the stand-in that does what flanneld's vxlan backend
 * does with --kube-subnet-mgr (docs/rehearse.md, "Stand-ins").
 */
export function rehearsalImages(config: ClusterConfig, inputs: RehearsalImageInputs): LocalImageSpec[] {
  return [
    {
      reference: config.images.flannel,
      rootfs: inputs.rootfs,
      entrypoint: '/opt/bin/flanneld',
      applets: ['sh'],
      files: [
        { from: inputs.node, to: `${STANDIN}/node`, mode: 0o755 },
        { from: inputs.bundle, to: `${STANDIN}/lotse.js` },
        { from: `${inputs.rootfs}/usr/sbin/ip`, to: '/usr/sbin/ip', mode: 0o755 },
        { from: `${inputs.rootfs}/usr/sbin/bridge`, to: '/usr/sbin/bridge', mode: 0o755 },
        { from: `${inputs.rootfs}/usr/sbin/nft`, to: '/usr/sbin/nft', mode: 0o755 },
        { to: '/opt/bin/flanneld', mode: 0o755, text: `#!/bin/sh\n# lotse rehearse: a stand-in for flanneld (vxlan backend, --kube-subnet-mgr); flannel's image cannot be fetched here.\nexec ${STANDIN}/node ${STANDIN}/lotse.js flanneld-standin "$@"\n` },
      ],
      programs: [`${STANDIN}/node`, '/usr/sbin/ip', '/usr/sbin/bridge', '/usr/sbin/nft'],
    },
    {
      reference: config.images.etcd,
      rootfs: inputs.rootfs,
      entrypoint: '/usr/local/bin/etcd',
      files: [{ from: inputs.etcd ?? '/usr/bin/etcd', to: '/usr/local/bin/etcd', mode: 0o755 }],
      programs: ['/usr/local/bin/etcd'],
    },
  ];
}

/** Builds what is missing; says which were built and which were there. */
export async function ensureRehearsalImages(specs: readonly LocalImageSpec[], say: (detail: string) => void): Promise<string[]> {
  for (const spec of specs) {
    const built = await ensureLocalImage(spec);
    say(`${spec.reference}: ${built ? 'built here' : 'already built'} (${spec.entrypoint})`);
  }
  return specs.map((s) => s.reference);
}
