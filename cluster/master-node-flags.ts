/**
 * Node.js flags the master runs with wherever lotse starts it: the hosts' unit and run script
 * (shipped Node.js 24 or the host's own, Node 20 or later) and `lotse up`'s local master.
 *
 * The master's garbage is mostly young: each request's parsed body, its copies and its answer, and
 * each store event. Node 20's V8 stops growing the young generation at semi-spaces of 16 MB, where
 * the collector took 14 % of the master's thread in a profile of 1,000 hollow nodes on etcd; Node
 * 24's grows them to 64 MB by default (both measured with an allocation loop). With this flag the
 * master gets Node 24's young generation on every Node.js it runs on (`lotse up` runs the
 * machine's own). On Node 20, in three pairs of runs of 1,000 hollow nodes on etcd, it cut the
 * master's CPU for the pod burst by 6-19 %, within the spread between runs of one build (~12 %);
 * the SLIs' p99s moved both ways, the peak RSS by under 50 MB either way; on SQLite no change
 * (bench/RESULTS.md, "The master's young generation"). V8 grows the semi-spaces only under
 * allocation pressure, so an idle master stays as small.
 * The agent caps its semi-spaces instead (agent-node-flags.ts): its footprint beside the pods
 * weighs more than its CPU for a burst. Every flag here must be valid on Node 20 and later (a test
 * checks both).
 */
export const MASTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
