import { IGNITION_SIZE_LIMIT, IgnitionBuilder } from '../../../stacks/ignition/builder';
import { nodeIgnition } from '../../../stacks/ignition/node-ignition';
import type { IgnitionConfig } from '../../../stacks/ignition/spec';
import { decoded, ignitionValidate } from '../helpers';

const images = { flannel: 'docker.io/flannel/flannel:v0.26.7', etcd: 'quay.io/coreos/etcd:v3.5.21' };
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKey test@host';

function build(os: 'fedora-coreos' | 'flatcar', role: 'master' | 'worker'): IgnitionConfig {
  return nodeIgnition({ hostname: `n-${role}`, role, os, sshAuthorizedKeys: [key], images }).build();
}

function fileText(config: IgnitionConfig, path: string): string {
  const file = config.storage.files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} in ${config.storage.files.map((f) => f.path).join(', ')}`);
  return decodeURIComponent(file.contents.source.replace(/^data:,/, ''));
}

function unit(config: IgnitionConfig, name: string): { enabled?: boolean; contents: string } {
  const found = config.systemd.units.find((u) => u.name === name);
  if (!found) throw new Error(`no unit ${name}`);
  return { enabled: found.enabled, contents: found.contents ?? '' };
}

describe.each([
  ['fedora-coreos', 'podman', 'podman.socket', 'unix:///run/podman/podman.sock'],
  ['flatcar', 'docker', 'docker.socket', 'unix:///run/docker.sock'],
] as const)('%s', (os, runtime, socketUnit, endpoint) => {
  test.each(['master', 'worker'] as const)('%s config carries keys, hostname, kernel settings, runtime and flannel', (role) => {
    const config = build(os, role);
    expect(config.ignition.version).toBe('3.4.0');
    expect(config.passwd.users).toEqual([{ name: 'core', sshAuthorizedKeys: [key] }]);
    expect(fileText(config, '/etc/hostname')).toBe(`n-${role}\n`);
    expect(fileText(config, '/etc/modules-load.d/lotse.conf').split('\n')).toEqual(expect.arrayContaining(['br_netfilter', 'vxlan']));
    const sysctl = fileText(config, '/etc/sysctl.d/90-lotse.conf');
    expect(sysctl).toContain('net.ipv4.ip_forward = 1');
    expect(sysctl).toContain('net.bridge.bridge-nf-call-iptables = 1');
    expect(sysctl).toMatch(/net\.ipv4\.conf\.all\.rp_filter = [02]/);
    expect(fileText(config, '/etc/lotse/runtime.env')).toBe(`LOTSE_RUNTIME=${runtime}\nLOTSE_RUNTIME_ENDPOINT=${endpoint}\n`);
    expect(unit(config, socketUnit).enabled).toBe(true);

    const flannel = unit(config, 'lotse-flannel.service').contents;
    expect(flannel).toContain(`/usr/bin/${runtime} run --rm --name lotse-flannel --network host`);
    expect(flannel).toContain(images.flannel);
    expect(flannel).toContain('EnvironmentFile=/etc/lotse/flannel.env');
    expect(flannel).toContain('--env-file /etc/lotse/flannel.env'); // NODE_NAME and FLANNELD_IFACE reach flanneld
    // The Kubernetes subnet manager, acting as the node through the agent's kubeconfig: no etcd.
    expect(flannel).toContain('--kube-subnet-mgr --kubeconfig-file=/var/lib/lotse/agent/kubeconfig --net-config-path=/etc/kube-flannel/net-conf.json');
    expect(flannel).toContain('-v /etc/lotse/flannel/net-conf.json:/etc/kube-flannel/net-conf.json:ro -v /var/lib/lotse/agent:/var/lib/lotse/agent:ro');
    expect(flannel).not.toContain('etcd');
    // Least privilege, as upstream's DaemonSet: NET_ADMIN and NET_RAW, not --privileged.
    expect(flannel).toContain('--cap-add=NET_ADMIN --cap-add=NET_RAW');
    expect(flannel).not.toContain('--privileged');
    expect(flannel).toContain("ExecStartPre=/bin/sh -c 'until [ -s /var/lib/lotse/agent/kubeconfig ]; do sleep 1; done'");
    expect(flannel).toContain('--subnet-file=/run/flannel/subnet.env');
    expect(flannel).toContain('ConditionPathExists=/etc/lotse/flannel/net-conf.json');
    expect(unit(config, 'lotse-flannel.path')).toEqual({ enabled: true, contents: expect.stringContaining('PathExists=/etc/lotse/flannel.env') });

    // lotse units start only once the bootstrap delivered the bundle and env files.
    const agent = unit(config, 'lotse-agent.service').contents;
    // The agent runs its own bundle, lotse-agent.js (bench/RESULTS.md: lotse.js cost it ~18 MB).
    expect(agent).toContain('ConditionPathExists=/opt/lotse/lotse-agent.js');
    expect(agent).toContain('EnvironmentFile=/etc/lotse/agent.env');
    expect(unit(config, 'lotse-agent.service').enabled).toBeUndefined();
    expect(unit(config, 'lotse-agent.path').enabled).toBe(true);
    expect(unit(config, 'lotse-preflight.service').contents).toContain('modprobe vxlan');

    const masterOnly = ['lotse-etcd.service', 'lotse-etcd.path', 'lotse-master.service', 'lotse-master.path'];
    const names = config.systemd.units.map((u) => u.name);
    if (role === 'master') {
      expect(names).toEqual(expect.arrayContaining(masterOnly));
      expect(unit(config, 'lotse-etcd.service').contents).toContain(`--env-file /etc/lotse/etcd.env`);
      expect(unit(config, 'lotse-etcd.service').contents).toContain(images.etcd);
    } else {
      expect(names.filter((n) => masterOnly.includes(n))).toEqual([]);
    }
  });

  test.each(['master', 'worker'] as const)('%s config passes ignition-validate and is small', (role) => {
    const text = nodeIgnition({ hostname: 'n', role, os, sshAuthorizedKeys: [key], images }).render();
    expect(ignitionValidate(text)).toBe('');
    expect(Buffer.byteLength(text)).toBeLessThan(IGNITION_SIZE_LIMIT / 8);
  });
});

describe('IgnitionBuilder', () => {
  test('ignition-validate catches a broken config (the check can fail)', () => {
    const broken = JSON.parse(nodeIgnition({ hostname: 'n', role: 'worker', os: 'flatcar', sshAuthorizedKeys: [key], images }).render()) as {
      storage: { files: Array<{ path: string }> };
    };
    broken.storage.files[0].path = 'relative/path';
    expect(ignitionValidate(JSON.stringify(broken))).toMatch(/path/i);
  });

  test('later additions replace earlier ones and output is sorted, so configs are reproducible', () => {
    const a = new IgnitionBuilder().file('/b', '1').file('/a', '2').file('/b', '3').build();
    expect(a.storage.files.map((f) => [f.path, decoded(f.contents.source)])).toEqual([
      ['/a', '2'],
      ['/b', '3'],
    ]);
  });

  test('a config above the metadata limit is refused with the reason', () => {
    const big = new IgnitionBuilder().file('/big', 'x'.repeat(IGNITION_SIZE_LIMIT));
    expect(() => big.render()).toThrow(/above the 262144-byte metadata limit/);
  });

  test('text Terraform would interpolate is refused, so user-data arrives verbatim', () => {
    // File contents are percent-encoded and safe; unit contents travel as they are.
    expect(() => new IgnitionBuilder().file('/x', '${HOME} %{ x }').render()).not.toThrow();
    expect(() => new IgnitionBuilder().unit({ name: 'x.service', contents: 'ExecStart=/bin/echo ${HOME}' }).render()).toThrow(/contains "\$\{".*write systemd variables as \$NAME/);
    expect(() => new IgnitionBuilder().unit({ name: 'x.service', contents: '%{ if }' }).render()).toThrow(/contains "%\{"/);
  });

  test('OS update reboots are bounded to the window: Zincati periodic strategy on FCOS, locksmithd on Flatcar', () => {
    const window = { days: ['Sat', 'Sun'] as const, start: '03:30', lengthMinutes: 90 };
    const fcos = nodeIgnition({ hostname: 'n', role: 'worker', os: 'fedora-coreos', sshAuthorizedKeys: [key], images, rebootWindow: window });
    expect(ignitionValidate(fcos.render())).toBe('');
    expect(fileText(fcos.build(), '/etc/zincati/config.d/55-lotse-reboot-window.toml')).toMatch(
      /\[updates\]\nstrategy = "periodic"\n\n\[\[updates\.periodic\.window\]\]\ndays = \[ "Sat", "Sun" \]\nstart_time = "03:30"\nlength_minutes = 90\n$/,
    );
    const daily = { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const, start: '04:00', lengthMinutes: 60 };
    const flatcar = nodeIgnition({ hostname: 'n', role: 'worker', os: 'flatcar', sshAuthorizedKeys: [key], images, rebootWindow: daily });
    expect(ignitionValidate(flatcar.render())).toBe('');
    expect(fileText(flatcar.build(), '/etc/flatcar/update.conf')).toMatch(/\nREBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=04:00\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=60m\n$/);
    const sunday = nodeIgnition({ hostname: 'n', role: 'worker', os: 'flatcar', sshAuthorizedKeys: [key], images, rebootWindow: { days: ['Sun'], start: '04:00', lengthMinutes: 60 } });
    expect(fileText(sunday.build(), '/etc/flatcar/update.conf')).toContain('LOCKSMITHD_REBOOT_WINDOW_START=Sun 04:00\n');
    expect(build('flatcar', 'worker').storage.files.map((f) => f.path)).not.toContain('/etc/flatcar/update.conf');
  });

  test('kernel arguments appear only when asked for', () => {
    expect(new IgnitionBuilder().build().kernelArguments).toBeUndefined();
    expect(new IgnitionBuilder().kernelArgument('a=1').kernelArgument('b', false).build().kernelArguments).toEqual({ shouldExist: ['a=1'], shouldNotExist: ['b'] });
  });
});
