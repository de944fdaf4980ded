/**
 * Shell (one line, POSIX sh) that puts $LOTSE_DNS_ADDRESS on the node's loopback interface before
 * the agent starts, so the agent can serve cluster DNS there. Every node answers on the same
 * node-local address (NodeLocal DNSCache's idea), pods reach it through their default route to
 * the node, and no pod's DNS query leaves its node. The loopback rather than a dummy interface:
 * it needs no kernel module. Run by the agent unit (Ignition) and by the bootstrap's run script
 * alike; a no-op without the variable.
 */
export const DNS_ADDRESS_SCRIPT = `if [ -n "$LOTSE_DNS_ADDRESS" ]; then ip addr replace "$LOTSE_DNS_ADDRESS/32" dev lo; fi`;
