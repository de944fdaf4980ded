import { DNS_ADDRESS_SCRIPT } from '../cluster/node-dns';
import { LOAD_ENV_FUNCTION } from './env-file';
import type { HostFacts } from './host-facts';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { AGENT_NODE_FLAGS } from '../cluster/agent-node-flags';
import { MASTER_NODE_FLAGS } from '../cluster/master-node-flags';

export type ServiceName = 'etcd' | 'master' | 'flannel' | 'agent';

/**
 * Where no systemd runs, this keeps one service alive the way `Restart=always` would: it records
 * its PID (the process group leader, started with setsid) in /run/lotse/NAME.pid, restarts the
 * service 2 s after it exits, and on TERM stops it and removes the PID file.
 */
export const SUPERVISOR_SCRIPT = `#!/bin/sh
# Written by lotse bootstrap: supervises one lotse service where no systemd runs.
name=$1
pidfile=${NODE_LAYOUT.runDir}/$name.pid
log=${NODE_LAYOUT.logDir}/$name.log
mkdir -p ${NODE_LAYOUT.runDir} ${NODE_LAYOUT.logDir}
echo $$ > "$pidfile"
child=
stop() { trap - TERM INT; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; rm -f "$pidfile"; exit 0; }
trap stop TERM INT
while :; do
  ${NODE_LAYOUT.optDir}/run-$name.sh >>"$log" 2>&1 </dev/null &
  child=$!
  wait "$child"
  echo "$(date -u +%FT%TZ) supervise: $name exited with status $?, restarting in 2 s" >>"$log"
  sleep 2
done
`;

/** The command of each service, reading the same env files the Ignition units read. */
export function runScript(service: ServiceName, facts: HostFacts): string {
  const head = `#!/bin/sh\n# Written by lotse bootstrap.\n${LOAD_ENV_FUNCTION}\n`;
  switch (service) {
    case 'etcd':
      // etcd reads its whole configuration from ETCD_* variables; 3.4 refuses arm64 unless told.
      return `${head}load_env ${NODE_LAYOUT.etcdEnv}\nexport ETCD_DATA_DIR=${NODE_LAYOUT.fallbackEtcdDataDir}\n${facts.arch === 'aarch64' ? 'export ETCD_UNSUPPORTED_ARCH=arm64\n' : ''}exec etcd\n`;
    case 'master':
      return `${head}load_env ${NODE_LAYOUT.masterEnv}\nexec $LOTSE_NODE ${MASTER_NODE_FLAGS.join(' ')} ${NODE_LAYOUT.bundle} master $LOTSE_MASTER_ARGS\n`;
    case 'agent':
      return `${head}[ -f ${NODE_LAYOUT.runtimeEnv} ] && load_env ${NODE_LAYOUT.runtimeEnv}\nload_env ${NODE_LAYOUT.agentEnv}\n${DNS_ADDRESS_SCRIPT}\nexec $LOTSE_NODE ${AGENT_NODE_FLAGS.join(' ')} ${NODE_LAYOUT.agentBundle} agent \${LOTSE_RUNTIME:+--runtime $LOTSE_RUNTIME} \${LOTSE_RUNTIME_ENDPOINT:+--runtime-endpoint $LOTSE_RUNTIME_ENDPOINT} $LOTSE_AGENT_ARGS\n`;
    case 'flannel':
      // As the Ignition unit runs it: the Kubernetes subnet manager, acting as the node once the agent joined.
      return `${head}load_env ${NODE_LAYOUT.flannelEnv}\nmkdir -p /run/flannel\nuntil [ -s ${NODE_LAYOUT.nodeKubeconfig} ]; do sleep 1; done\nexec flanneld --kube-subnet-mgr --kubeconfig-file=${NODE_LAYOUT.nodeKubeconfig} --net-config-path=${NODE_LAYOUT.flannelNetConf} --subnet-file=${NODE_LAYOUT.subnetEnv} --ip-masq\n`;
  }
}

/** A unit for systemd hosts whose Ignition did not bring one (e.g. a Debian server). */
export function fallbackUnit(service: ServiceName): string {
  return `# Written by lotse bootstrap.
[Unit]
Description=lotse ${service}
Wants=network-online.target
After=network-online.target${service === 'master' ? ' lotse-etcd.service' : ''}

[Service]
ExecStart=${NODE_LAYOUT.runScript(service)}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
