import { existsSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { defaultStoreSpec, openStore } from '../../master/store/open-store';
import { restoreSnapshot, saveSnapshotFile, writeSnapshot } from '../../master/store/snapshot';
import type { Store } from '../../master/store/store';
import { readKubeconfigCredentials } from '../local/admin-client';
import { localPaths } from '../local/local-paths';

interface StoreFlags {
  kubeconfig?: string;
  context?: string;
  store?: string;
  dataDir?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
}

function withStoreFlags(command: Command): Command {
  return command
    .option('--store <spec>', "the store, as lotse master's --store: etcd://HOST:PORT[,HOST:PORT...] or sqlite:PATH (default: the SQLite file in --data-dir)")
    .option('--data-dir <dir>', "the master's data directory (default: the local cluster's)")
    .option('--etcd-ca <file>', 'CA of the etcd servers (switches etcd to https)')
    .option('--etcd-cert <file>', 'client certificate for etcd')
    .option('--etcd-key <file>', 'client key for etcd');
}

async function open(flags: StoreFlags): Promise<{ store: Store; spec: string }> {
  const dataDir = flags.dataDir ?? localPaths().masterDataDir;
  const spec = flags.store ?? defaultStoreSpec(dataDir);
  const store = await openStore(spec, { dataDir, etcdCa: flags.etcdCa, etcdCert: flags.etcdCert, etcdKey: flags.etcdKey, callTimeoutMs: 60_000, listTimeoutMs: 60_000 });
  return { store, spec };
}

const err = (line: string): void => void process.stderr.write(`${line}\n`);

/** `lotse etcd snapshot|restore`: backups of the store, for etcd and (the same file format) SQLite. */
export function registerEtcd(program: Command): void {
  const etcd = program.command('etcd').description("Back up and restore the cluster's store (etcd, or the SQLite file of a single-master cluster)");

  withStoreFlags(etcd.command('snapshot <file>'))
    .description('Save every object of the store to FILE (gzip, checksummed, 0600), read at one revision: through a running master (--kubeconfig, the default) or from the store itself (--store, for etcd or a stopped SQLite master)')
    .option('--kubeconfig <file>', "an admin kubeconfig of the cluster (default: the local cluster's)")
    .option('--context <name>', 'the context of --kubeconfig to use (default: its current context)')
    .action(async (file: string, flags: StoreFlags) => {
      const started = Date.now();
      if (flags.store) {
        const { store, spec } = await open(flags);
        try {
          const saved = await saveSnapshotFile(file, (out) => writeSnapshot(store, out, (n) => err(`  ${n} keys`)));
          process.stdout.write(`snapshot of ${spec} at revision ${saved.revision}: ${saved.keys} keys in ${file} (${Date.now() - started} ms)\n`);
        } finally {
          await store.close();
        }
        return;
      }
      const kubeconfig = flags.kubeconfig ?? path.join(flags.dataDir ?? localPaths().masterDataDir, 'admin.kubeconfig');
      const creds = readKubeconfigCredentials(kubeconfig, flags.context);
      const saved = await saveSnapshotFile(file, (out) => download(`${creds.server}/lotse/v1/snapshot`, creds.caPem, creds.token, out));
      process.stdout.write(`snapshot of the cluster at ${creds.server} at revision ${saved.revision}: ${saved.keys} keys in ${file} (${Date.now() - started} ms)\n`);
    });

  withStoreFlags(etcd.command('restore <file>'))
    .description('Write FILE into an empty store (a new etcd data dir or SQLite file), with the masters stopped; then start the masters on it')
    .action(async (file: string, flags: StoreFlags) => {
      if (!existsSync(file)) throw new Error(`no snapshot at ${file}: give the file lotse etcd snapshot wrote`);
      const { store, spec } = await open(flags);
      try {
        const started = Date.now();
        const restored = await restoreSnapshot(store, file, (done, total) => err(`  ${done}/${total} keys`));
        process.stdout.write(`restored ${restored.keys} keys (taken at revision ${restored.revision}) into ${spec} in ${Date.now() - started} ms; start the masters on it\n`);
      } finally {
        await store.close();
      }
    });
}

/** GET url into out, failing with the master's answer when it is not 200. */
function download(url: string, ca: string, token: string, out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 60_000 }, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(`${url} answered HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`)));
        return;
      }
      pipeline(res, out).then(resolve, reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 60 s`)));
    req.on('error', (e) => reject(new Error(`${url}: ${e.message}`)));
  });
}
