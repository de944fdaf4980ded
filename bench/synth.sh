#!/bin/sh
# Synth of every stack (gce, digitalocean, scaleway, raspberry-pi) from cluster.example.yaml with the
# compiled app, exactly the command cdktf.json gives `cdktf synth`: wall time (median of RUNS) and
# peak RSS (largest of RUNS), measured by GNU time. Targets: under 6 s and under 400 MB.
#   sh bench/synth.sh            (RUNS=5 by default; SKIP_BUILD=1 reuses dist/ as it is)
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
runs=${RUNS:-5}
# tsc emits even when another part of the repo has a type error; only a missing app is fatal.
[ "${SKIP_BUILD:-0}" = 1 ] || npm run build >/dev/null 2>&1 || true
[ -f dist/stacks/main.js ] || { echo 'dist/stacks/main.js missing: npm run build failed' >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
# An empty working directory: no cluster.yaml, so the app synthesizes the committed example.
cd "$work"
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  env -u LOTSE_CONFIG CDKTF_OUTDIR="$work/out.$i" /usr/bin/time -f '%e %M' -o "$work/time.$i" \
    node "$repo/dist/stacks/main.js" 2>/dev/null
  test -f "$work/out.$i/stacks/raspberry-pi/cdk.tf.json"
done
cat "$work"/time.* | sort -n | awk -v runs="$runs" '
  { wall[NR] = $1; if ($2 > rss) rss = $2 }
  END {
    median = (runs % 2) ? wall[(runs + 1) / 2] : (wall[runs / 2] + wall[runs / 2 + 1]) / 2
    printf "synth all stacks: median wall %.2f s over %d runs (min %.2f, max %.2f), peak RSS %.0f MB\n", median, runs, wall[1], wall[runs], rss / 1024
  }'
