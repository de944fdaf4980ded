import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './command-runner';
import { rehearseHome } from './rehearse-home';

/** Debian release the hosts are built from; the same as the machine lotse is tested on. */
const SUITE = 'bookworm';

/**
 * What a host needs to behave like FCOS/Flatcar for lotse: systemd, sshd, both engines (podman for
 * FCOS-like hosts, docker for Flatcar-like ones; the Ignition config enables the one its OS ships),
 * the network tools the agent and the flannel stand-in use, and sudo for the `core` user.
 */
const PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'libnss-myhostname', 'iproute2', 'iputils-ping', 'openssh-server', 'sudo',
  'podman', 'runc', 'conmon', 'fuse-overlayfs', 'containernetworking-plugins', 'docker.io',
  'iptables', 'nftables', 'conntrack', 'procps', 'ca-certificates', 'kmod', 'netcat-openbsd', 'curl',
];

/** A file the customisation writes into the root file system, relative to it. */
interface ImageFile {
  readonly path: string;
  readonly contents: string;
  readonly mode?: number;
}

/** The unit that makes nspawn's read-only API file systems usable by runc, CNI and the agent. */
const APIVFS_UNIT = `[Unit]
Description=lotse rehearse: writable cgroup controllers and /proc/sys, and this host's own /sys/class/net
DefaultDependencies=no
ConditionVirtualization=container
Before=sysinit.target podman.socket podman.service docker.service
[Service]
Type=oneshot
RemainAfterExit=yes
# nspawn mounts the cgroup v1 controllers and /proc/sys read-only; runc (cgroupfs) and CNI write there.
# A plain "remount,rw" fails with "busy"; a bind remount works.
ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$c" || true; done; mount -o remount,bind,rw /proc/sys || true'
# With --network-namespace-path nspawn's /sys lists the outer machine's interfaces; a sysfs mounted
# from inside this namespace lists the host's own.
ExecStart=/bin/sh -c 'mkdir -p /run/lotse-sys && mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /run/lotse-sys && mount --bind /run/lotse-sys/class/net /sys/class/net && mount --bind /run/lotse-sys/devices/virtual/net /sys/devices/virtual/net'
[Install]
WantedBy=sysinit.target
`;

/**
 * openssh-server's install made host keys inside the image, which every host would share; real
 * machines make theirs on first boot (FCOS: sshd-keygen@), so the image drops them and this unit
 * makes a host's own before sshd starts.
 */
const SSH_KEYGEN_UNIT = `[Unit]
Description=lotse rehearse: this host's own SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
[Install]
WantedBy=multi-user.target
`;

/** Files of the bootstrapped image that must not be shared by every host. */
const REMOVED_PREFIXES = ['etc/ssh/ssh_host_'];

/**
 * Everything changed after mmdebstrap, each for a reason a real FCOS/Flatcar host does not have.
 * Part of the recipe's hash, so changing one rebuilds the cached image.
 */
const CUSTOMISATION: readonly ImageFile[] = [
  { path: 'etc/systemd/system/lotse-rehearse-apivfs.service', contents: APIVFS_UNIT },
  { path: 'etc/systemd/system/lotse-rehearse-ssh-keys.service', contents: SSH_KEYGEN_UNIT },
  // Debian's Ignition 2.14 relabels for SELinux after the files stage: it needs a policy type.
  { path: 'etc/selinux/config', contents: 'SELINUX=disabled\nSELINUXTYPE=targeted\n' },
  // First-boot semantics: systemd applies presets, so Ignition's "enabled" units (a preset file) start.
  { path: 'etc/machine-id', contents: 'uninitialized\n' },
  // Ignition writes keys where FCOS's sshd reads them.
  { path: 'etc/ssh/sshd_config.d/20-lotse-rehearse.conf', contents: 'AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys.d/ignition\n' },
  // FCOS and Flatcar let `core` use sudo without a password; Debian does not by default.
  { path: 'etc/sudoers.d/lotse-rehearse-core', contents: 'core ALL=(ALL) NOPASSWD: ALL\n', mode: 0o440 },
  // The network is plumbed from outside (veth with its address); networkd's wait-online would hang boot.
  // Both engines are installed: they start only where the Ignition config enables them (its preset, 20-, wins).
  {
    path: 'etc/systemd/system-preset/10-lotse-rehearse.preset',
    contents: ['systemd-networkd.service', 'systemd-networkd.socket', 'systemd-networkd-wait-online.service', 'systemd-resolved.service',
      'apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_reap.service'].map((u) => `disable ${u}\n`).join(''),
  },
  { path: 'etc/systemd/system-preset/80-lotse-rehearse-engines.preset',
    contents: ['docker.service', 'docker.socket', 'podman.service', 'podman.socket', 'containerd.service'].map((u) => `disable ${u}\n`).join('') },
  // Fedora and Flatcar end their presets with "disable *": only what a preset or Ignition enables
  // starts. Debian has no such line, so without it every installed unit (the flannel and agent units
  // the Ignition config leaves for the bootstrap to start) would start at boot.
  { path: 'etc/systemd/system-preset/99-lotse-rehearse-default.preset', contents: 'disable *\n' },
  { path: 'etc/systemd/system-preset/05-lotse-rehearse-apivfs.preset', contents: 'enable lotse-rehearse-apivfs.service\nenable lotse-rehearse-ssh-keys.service\nenable ssh.service\nenable getty@.service\nenable systemd-timesyncd.service\n' },
  // Containers that ignore SIGTERM must not hold a power-off for 90 s.
  { path: 'etc/systemd/system.conf.d/20-lotse-rehearse.conf', contents: '[Manager]\nDefaultTimeoutStopSec=10s\n' },
  // The same engine settings as on this machine: runc and cgroupfs (cgroup v1 here), limits the sandbox allows.
  { path: 'etc/containers/containers.conf', contents: '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' },
  { path: 'etc/containers/storage.conf', contents: '[storage]\ndriver = "overlay"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' },
  { path: 'etc/docker/daemon.json', contents: '{"exec-opts": ["native.cgroupdriver=cgroupfs"], "iptables": true}\n' },
  { path: 'etc/hostname', contents: 'rehearse\n' },
];

/** The recipe's hash: same packages and customisation, same cached image. */
export function recipeHash(): string {
  return createHash('sha256').update(JSON.stringify({ SUITE, PACKAGES, CUSTOMISATION, REMOVED_PREFIXES })).digest('hex').slice(0, 12);
}

/** Where the image for the current recipe lives once built. */
export function hostImagePath(): string {
  return join(rehearseHome(), `rootfs-${recipeHash()}`);
}

function writeImageFile(root: string, file: ImageFile): void {
  const target = join(root, file.path);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { force: true });
  writeFileSync(target, file.contents, { mode: file.mode ?? 0o644 });
  chmodSync(target, file.mode ?? 0o644);
}

/** Applies the customisation to a freshly bootstrapped root file system. */
export function customise(root: string): void {
  for (const prefix of REMOVED_PREFIXES) {
    const dir = join(root, dirname(prefix));
    for (const name of readdirSync(dir)) if (`${dirname(prefix)}/${name}`.startsWith(prefix)) rmSync(join(dir, name));
  }
  for (const file of CUSTOMISATION) writeImageFile(root, file);
  const wants = join(root, 'etc/systemd/system/sysinit.target.wants');
  mkdirSync(wants, { recursive: true });
  const link = join(wants, 'lotse-rehearse-apivfs.service');
  rmSync(link, { force: true });
  symlinkSync('/etc/systemd/system/lotse-rehearse-apivfs.service', link);
}

/**
 * The host image, built once with mmdebstrap (about 2.5 min, 450 MB) and then reused. A build that
 * stops part-way leaves only a `.partial` folder, removed by the next build.
 */
export async function ensureHostImage(progress: (line: string) => void): Promise<string> {
  const image = hostImagePath();
  if (existsSync(join(image, 'etc/os-release'))) {
    progress(`host image: cached at ${image}`);
    return image;
  }
  const partial = `${image}.partial`;
  rmSync(partial, { recursive: true, force: true });
  progress(`host image: building ${image} with mmdebstrap (Debian ${SUITE}, ${PACKAGES.length} packages; about 2.5 min, once)`);
  const started = Date.now();
  let last = 0;
  await run(['mmdebstrap', '--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, partial], {
    onLine: (line) => {
      // mmdebstrap logs each phase as "I: ..."; apt's per-package lines would flood the terminal.
      if (line.startsWith('I:') || line.startsWith('E:') || Date.now() - last > 15000) {
        last = Date.now();
        progress(`host image: ${line.slice(0, 160)}`);
      }
    },
  });
  customise(partial);
  renameSync(partial, image);
  progress(`host image: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return image;
}
