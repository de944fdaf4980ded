import { renderUnit } from './systemd-unit';

export const PREFLIGHT_SERVICE = 'lotse-preflight.service';

const checks: ReadonlyArray<readonly [string, string]> = [
  [
    // cgroup v2 lists controllers in one file; v1 has a directory per controller.
    "grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null || test -d /sys/fs/cgroup/memory",
    'the memory cgroup is disabled (is cgroup_disable=memory on the kernel command line?); pods could not get memory limits',
  ],
  ['/usr/sbin/modprobe vxlan', 'the kernel has no vxlan module; flannel cannot build the overlay network'],
];

/**
 * Wanted, not required: without br_netfilter, replies bridged between two pods of a node bypass
 * conntrack, so the agent masquerades Service traffic between its own pods instead (the reply then
 * passes through the node); the journal says which way this host goes.
 */
const advisories: ReadonlyArray<readonly [string, string]> = [
  ['/usr/sbin/modprobe br_netfilter', 'the kernel has no br_netfilter module; the agent masquerades Service traffic between pods of this node instead'],
];

/**
 * Checks what users of small machines trip over, once per boot, before the agent starts: a
 * failure names the problem in `journalctl -u lotse-preflight` instead of a pod failing later.
 */
export function preflightUnit(): string {
  return renderUnit({
    Unit: [['Description', 'lotse preflight: memory cgroup and vxlan present (br_netfilter wanted)']],
    Service: [
      ['Type', 'oneshot'],
      ['RemainAfterExit', 'yes'],
      ...checks.map(([test, message]) => ['ExecStart', `/bin/sh -c '${test} || { echo "lotse preflight: ${message}" >&2; exit 1; }'`] as const),
      ...advisories.map(([test, message]) => ['ExecStart', `/bin/sh -c '${test} || echo "lotse preflight: ${message}" >&2'`] as const),
    ],
    Install: [['WantedBy', 'multi-user.target']],
  });
}
