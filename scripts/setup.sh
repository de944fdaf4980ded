#!/usr/bin/env bash
# Everything lotse needs on a fresh Debian 12 machine (run as root, or with sudo):
# container runtime, etcd, sshd, Chromium and disk tools from Debian; npm packages; the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in podman runc uidmap slirp4netns fuse-overlayfs etcd-server etcd-client openssh-server chromium \
           ignition gdisk mtools dosfstools e2fsprogs xz-utils zip unzip busybox-static iproute2 util-linux \
           nftables conntrack curl wrk; do
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
echo "lotse setup: building"
npm run build --silent
# `lotse` on PATH, as the README's walkthrough types it.
ln -sf "$PWD/bin/lotse" /usr/local/bin/lotse
# The example images (no registry is assumed): built locally from busybox-static.
if command -v podman >/dev/null 2>&1; then scripts/build-test-image.sh; fi
echo "lotse setup: done"
