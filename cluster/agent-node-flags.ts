/**
 * Node.js flags the node agent runs with wherever lotse starts it: the hosts' unit and run script
 * (shipped Node.js 24 or the host's own, Node 20 or later) and `lotse up`'s local agents.
 *
 * An idle agent holds ~20 MB of live heap, yet V8 sizes the young generation for throughput: a
 * semi-space that grows to 16 MB and stays mapped. Capping it at 1 MB took 4.3 MB off an idle
 * agent on Node 24 with no measurable cost in idle CPU or in a 10-pod start burst (bench/RESULTS.md,
 * "Agent idle RSS on the shipped Node 24"). The master keeps V8's defaults: it serves lists of
 * thousands of objects, where a small young generation means objects promoted early and more
 * full collections. Every flag here is valid on Node 20 and later (a test checks both).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
