/**
 * Node.js flags the node agent runs with wherever lotse starts it: the hosts' unit and run script
 * (shipped Node.js 24 or the host's own, Node 20 or later) and `lotse up`'s local agents.
 *
 * V8 sizes the young generation for throughput: its semi-spaces grow during a burst of pod starts
 * and stay mapped afterwards. Capped at 1 MB, an idle agent on Node 24 is 3-3.5 MB smaller
 * and one that just started 20 pods 70-85 MB smaller; idle CPU is unchanged, and a burst costs more
 * scavenges (+15-20 % of the agent's CPU for it, no slower start, bench/RESULTS.md "Agent idle RSS on the
 * shipped Node 24"): for a node agent its footprint beside the pods weighs more. The master goes the
 * other way (master-node-flags.ts): it serves lists of thousands of objects, where a small young
 * generation means objects promoted early and more full collections. Every flag here must be
 * valid on Node 20 and later (a test checks both).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
