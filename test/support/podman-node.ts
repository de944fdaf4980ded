import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleAgent, spawnPodmanAgent, type AgentProcess } from '../agent/agent-process';
import { startCluster, type TestCluster } from '../master/controllers/cluster';
import { removeLabelledContainers, startPodmanService } from './podman';

/** A cluster (master with controllers, no hollow nodes) and one real agent on a podman service of its own. */
export interface PodmanNode {
  cluster: TestCluster;
  agent: AgentProcess;
  /** Starts one more agent, node `name`, on the same podman; stopped (and its containers removed) with the node. */
  addAgent(name: string, args: string[]): AgentProcess;
  /** Stops the agent, removes its containers, stops the cluster and podman, deletes the files. */
  stop(): Promise<void>;
}

/** `cluster` passes options to the test cluster (a master reachable from pods, the CA for the service-account loop). */
export async function startPodmanNode(node: string, cluster: Omit<Parameters<typeof startCluster>[0], 'nodes'> = {}, agentArgs: string[] = []): Promise<PodmanNode> {
  const undo: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lotse-${node}-`));
    undo.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const podman = await startPodmanService();
    undo.push(() => podman.stop());
    const running = await startCluster({ ...cluster, nodes: 0 });
    undo.push(() => running.stop());
    const bundle = await bundleAgent();
    undo.push(() => fs.rmSync(path.dirname(bundle), { recursive: true, force: true }));
    const { master } = running;
    const agent = spawnPodmanAgent(bundle, { server: master.url, caPem: master.caPem, joinToken: master.joinToken, node, dir, endpoint: podman.endpoint, extraArgs: agentArgs });
    undo.push(async () => {
      await agent.stop();
      await removeLabelledContainers(`io.lotse.node=${node}`);
    });
    const addAgent = (name: string, args: string[]): AgentProcess => {
      const extraDir = fs.mkdtempSync(path.join(os.tmpdir(), `lotse-${name}-`));
      const extra = spawnPodmanAgent(bundle, { server: master.url, caPem: master.caPem, joinToken: master.joinToken, node: name, dir: extraDir, endpoint: podman.endpoint, extraArgs: args });
      undo.push(async () => {
        await extra.stop();
        await removeLabelledContainers(`io.lotse.node=${name}`);
        fs.rmSync(extraDir, { recursive: true, force: true });
      });
      return extra;
    };
    return { cluster: running, agent, addAgent, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
