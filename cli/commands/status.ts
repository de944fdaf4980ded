import type { Command } from 'commander';
import { clusterStatus } from '../local/cluster-status';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the local cluster: master URL and health, nodes and their Ready condition')
    .action(async () => {
      const s = await clusterStatus();
      const out = (line: string): void => void process.stdout.write(`${line}\n`);
      if (!s.running) {
        out(`local cluster: not running (data: ${s.dataDir}); start it with lotse up`);
        process.exitCode = 1;
        return;
      }
      out(`master: ${s.url}  health: ${s.health}  pid ${s.masterPid}`);
      out(`engine: ${s.engine}`);
      out('NODE                 READY     AGENT');
      for (const n of s.nodes) {
        out(`${n.name.padEnd(20)} ${n.ready.padEnd(9)} ${n.agentPid ? `pid ${n.agentPid}` : 'not running'}${n.ready !== 'True' && n.message ? `  ${n.message}` : ''}`);
      }
      out(`data: ${s.dataDir}`);
      if (s.health !== 'ok' || !s.engine?.endsWith(' ok') || s.nodes.some((n) => n.ready !== 'True' || !n.agentPid)) process.exitCode = 1;
    });
}
