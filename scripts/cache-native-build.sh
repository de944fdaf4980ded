#!/usr/bin/env bash
# Keeps a native module that npm compiled here where its prebuild-install looks first, so the next
# `npm ci` (every CI run, every fresh clone) unpacks it instead of compiling it again.
# better-sqlite3's prebuilt binaries come from GitHub, which these machines cannot reach, so each
# install compiled SQLite with node-gyp: 65-85 s of a 100-120 s `npm ci` on 2 cores.
# The cache is prebuild-install's own (~/.npm/_prebuilds), keyed by module version, Node ABI,
# platform and architecture, so a build is only ever reused where it was made for.
set -euo pipefail
cd "$(dirname "$0")/.."
module="${1:?usage: scripts/cache-native-build.sh MODULE}"
dir="node_modules/$module"
binary="$dir/build/Release/$(node -p "require('./$dir/package.json').name.replace(/-/g, '_')").node"
[ -f "$binary" ] || exit 0
# prebuild-install names the cache file it looks for; the download it then tries may fail here.
cached="$(cd "$dir" && ../.bin/prebuild-install --verbose 2>&1 | sed -n 's/.*looking for cached prebuild @ //p' | head -n 1 || true)"
if [ -z "$cached" ] || [ -f "$cached" ]; then exit 0; fi
mkdir -p "$(dirname "$cached")"
tar -czf "$cached.tmp" -C "$dir" "${binary#"$dir/"}"
mv "$cached.tmp" "$cached"
echo "lotse setup: kept $module's native build for the next install ($cached)"
