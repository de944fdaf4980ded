#!/bin/sh
# Builds the images the local-cluster walkthrough (docs/local-cluster.md) and the test suites use,
# from Debian's busybox-static: no registry is needed.
#   localhost/lotse-busybox:test  busybox applets, CMD /bin/sh (what the tests run)
#   localhost/lotse-hello:1       the same files, CMD serves "hello from <pod name>" on port 8080
# Usage: scripts/build-test-image.sh [--force]   (ENGINE=docker to use docker instead of podman)
set -eu

ENGINE="${ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
FORCE="${1:-}"
APPLETS="sh ash cat echo env false true grep hostname httpd id ip kill ls mkdir nc ps pwd rm sed sleep test touch wc wget date head tail printf seq mount nslookup ifconfig trap yes tr cut stat timeout chmod"

command -v "$ENGINE" >/dev/null 2>&1 || { echo "build-test-image: neither podman nor docker found: apt-get install podman runc" >&2; exit 1; }
[ -x "$BUSYBOX" ] || { echo "build-test-image: $BUSYBOX is missing: apt-get install busybox-static" >&2; exit 1; }

exists() { "$ENGINE" image inspect "$1" >/dev/null 2>&1; }
if [ "$FORCE" != "--force" ] && exists localhost/lotse-busybox:test && exists localhost/lotse-hello:1; then
  echo "localhost/lotse-busybox:test and localhost/lotse-hello:1 exist (--force rebuilds them)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/var/www" "$root/root"
cp "$BUSYBOX" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
for applet in $APPLETS; do ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
# The hello image's command; a script because `podman import --change` cannot take a CMD with spaces.
printf '#!/bin/sh\necho "hello from $(hostname)" > /var/www/index.html\nexec httpd -f -p "${PORT:-8080}" -h /var/www\n' > "$root/bin/hello"
chmod 755 "$root/bin/hello"
tar -C "$root" -cf "$work/rootfs.tar" .

if [ "$FORCE" = "--force" ] || ! exists localhost/lotse-busybox:test; then
  "$ENGINE" import --change 'ENV=PATH=/bin' --change 'CMD=["/bin/sh"]' "$work/rootfs.tar" localhost/lotse-busybox:test >/dev/null
  echo "built localhost/lotse-busybox:test"
fi
"$ENGINE" import --change 'ENV=PATH=/bin' --change 'EXPOSE=8080' \
  --change 'CMD=["/bin/hello"]' \
  "$work/rootfs.tar" localhost/lotse-hello:1 >/dev/null
echo "built localhost/lotse-hello:1"
