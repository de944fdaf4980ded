import fs from 'node:fs';
import path from 'node:path';
import { parseServers } from '../../kube/client';

/** The node credential as a bare token file, re-read by clients that follow rotation (client-go's tokenFile). */
export const nodeTokenFile = (dataDir: string): string => path.join(dataDir, 'token');
/** A kubeconfig acting as this node, for what runs beside the agent with its identity (flannel --kube-subnet-mgr). */
export const nodeKubeconfigFile = (dataDir: string): string => path.join(dataDir, 'kubeconfig');

export interface NodeKubeconfigInput {
  dataDir: string;
  /** The agent's --server (comma-separated masters): a kubeconfig names one, the first. */
  server: string;
  caPem: string;
  nodeName: string;
  token: string;
}

/**
 * Writes the token file and, pointing at it, the kubeconfig: renewing the credential rewrites only
 * the token, which clients re-read, so they keep working across rotations without a restart.
 * Both 0600 and replaced atomically: they act as the node.
 */
export function writeNodeKubeconfig(input: NodeKubeconfigInput): void {
  fs.mkdirSync(input.dataDir, { recursive: true });
  writeAtomically(nodeTokenFile(input.dataDir), `${input.token}\n`);
  const user = `system:node:${input.nodeName}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lotse', cluster: { server: parseServers(input.server)[0], 'certificate-authority-data': Buffer.from(input.caPem).toString('base64') } }],
    users: [{ name: user, user: { tokenFile: nodeTokenFile(input.dataDir) } }],
    contexts: [{ name: 'lotse', context: { cluster: 'lotse', user } }],
    'current-context': 'lotse',
  };
  // JSON is YAML (1.2), so every kubeconfig reader takes it; the agent need not load a YAML library
  // (~70 modules, several MB of an idle agent's RSS) for one fixed-shape document.
  writeAtomically(nodeKubeconfigFile(input.dataDir), `${JSON.stringify(doc, null, 2)}\n`);
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
