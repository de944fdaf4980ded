import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { userKubeconfig } from '../../master/user-kubeconfig';
import { renamedAdminKubeconfig } from '../local/local-kubeconfig';
import { localPaths } from '../local/local-paths';

interface KubeconfigOptions {
  user?: string;
  group: string[];
  validDays: string;
  dataDir?: string;
}

export function registerKubeconfig(program: Command): void {
  program
    .command('kubeconfig')
    .description('Print the admin kubeconfig of the local cluster (KUBECONFIG=<(lotse kubeconfig) kubectl ...), or with --user one for another user')
    .option('--user <name>', 'issue a client certificate for this user (CN) instead of printing the admin kubeconfig; RBAC decides what it may do')
    .option('--group <name>', 'a group of the user (O), repeatable', (value: string, all: string[]) => [...all, value], [])
    .option('--valid-days <days>', 'how long the certificate holds (it cannot be revoked: keep it short)', '30')
    .option('--data-dir <dir>', "the master's data directory holding the cluster CA (default: the local cluster's)")
    .action((o: KubeconfigOptions) => {
      const dataDir = o.dataDir ?? localPaths().masterDataDir;
      if (o.user !== undefined) {
        process.stdout.write(userKubeconfig(dataDir, { user: o.user, groups: o.group, validDays: Number(o.validDays) }));
        return;
      }
      if (o.group.length) throw new Error('--group needs --user: groups belong to the user whose certificate is issued');
      const file = path.join(dataDir, 'admin.kubeconfig');
      if (!fs.existsSync(file)) throw new Error(`no local cluster yet (${file} is missing): run lotse up first`);
      process.stdout.write(renamedAdminKubeconfig(file));
    });
}
