#!/bin/sh
# Synth of every stack (gce, digitalocean, scaleway, raspberry-pi) from cluster.example.yaml with the
# compiled app, exactly the command cdktf.json gives `cdktf synth`: wall time (median of RUNS) and
# peak RSS (largest of RUNS), measured by GNU time. Targets: under 6 s and under 400 MB.
#   sh bench/synth.sh            (RUNS=5 by default; builds dist/ first if it is missing)
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
runs=${RUNS:-5}
[ -f dist/stacks/main.js ] || npm run build >/dev/null 2>&1 || [ -f dist/stacks/main.js ]
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
