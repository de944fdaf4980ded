import path from 'node:path';
import type { Command } from 'commander';
import { renamedAdminKubeconfig } from '../local/local-kubeconfig';
import { localPaths } from '../local/local-paths';
import fs from 'node:fs';

export function registerKubeconfig(program: Command): void {
  program
    .command('kubeconfig')
    .description('Print the admin kubeconfig of the local cluster (KUBECONFIG=<(lotse kubeconfig) kubectl ...)')
    .action(() => {
      const file = path.join(localPaths().masterDataDir, 'admin.kubeconfig');
      if (!fs.existsSync(file)) throw new Error(`no local cluster yet (${file} is missing): run lotse up first`);
      process.stdout.write(renamedAdminKubeconfig(file));
    });
}
