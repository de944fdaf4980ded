#!/usr/bin/env bash
# Everything lotse needs on a fresh Debian 12 machine (run as root, or with sudo):
# container runtime, etcd, sshd, Chromium and disk tools from Debian; npm packages; the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in podman runc uidmap slirp4netns fuse-overlayfs etcd-server etcd-client openssh-server chromium python3-kubernetes \
           ignition gdisk mtools dosfstools e2fsprogs xz-utils zip unzip busybox-static iproute2 util-linux \
           nftables conntrack curl wrk systemd-container mmdebstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "lotse setup: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# podman on these machines: crun fails on hybrid cgroups, runc works; the sandbox refuses to raise
# RLIMIT_NOFILE/NPROC, so containers get explicit limits. Only written when no config exists.
if [ ! -s /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "lotse setup: kubectl is not on PATH; install kubectl 1.32 (the client lotse is tested with)" >&2
fi

echo "lotse setup: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
scripts/cache-native-build.sh better-sqlite3
echo "lotse setup: building"
npm run build --silent
# `lotse` on PATH, as the README's walkthrough types it. The link is global state, so it is made only
# when nothing (or a dangling link) is there, or it already points here: a second checkout (CI's clone,
# a scratch worktree) must not re-point a working `lotse` at itself and leave it dangling once removed.
# LOTSE_SETUP_LINK=no skips it altogether (CI sets it: its clone is deleted after the run).
link=/usr/local/bin/lotse
target="$PWD/bin/lotse"
if [ "${LOTSE_SETUP_LINK:-yes}" = no ]; then
  echo "lotse setup: LOTSE_SETUP_LINK=no, leaving $link as it is"
elif [ ! -e "$link" ] || [ "$(readlink -f "$link")" = "$(readlink -f "$target")" ]; then
  ln -sfn "$target" "$link"
else
  echo "lotse setup: $link already runs $(readlink -f "$link"); leaving it (run $target here, or remove $link and re-run)"
fi
# The example images (no registry is assumed): built locally from busybox-static.
if command -v podman >/dev/null 2>&1; then scripts/build-test-image.sh; fi
echo "lotse setup: done"
