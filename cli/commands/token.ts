import path from 'node:path';
import type { Command } from 'commander';
import type { Secret } from 'kubernetes-types/core/v1';
import { BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenFields, bootstrapTokenSecret, bootstrapTokenSecretName, formatBootstrapToken, newBootstrapToken, parseBootstrapToken, type StoredSecret } from '../../cluster/bootstrap-token';
import { parseDuration } from '../../cluster/duration';
import { ApiError } from '../../kube/api-error';
import { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { readKubeconfigCredentials } from '../local/admin-client';
import { localPaths } from '../local/local-paths';

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

function client(flags: ClusterFlags): KubeClient {
  const file = flags.kubeconfig ?? path.join(localPaths().masterDataDir, 'admin.kubeconfig');
  const creds = readKubeconfigCredentials(file, flags.context);
  return new KubeClient({ server: creds.server, ca: creds.caPem, token: creds.token, timeoutMs: 10_000 });
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('Bootstrap tokens that let agents join the cluster (ID.SECRET, expiring; stored as Secrets in kube-system, as kubeadm keeps them)')
    .option('--kubeconfig <file>', "an admin kubeconfig of the cluster (default: the local cluster's)")
    .option('--context <name>', 'the context of --kubeconfig to use (default: its current context)');

  token
    .command('create')
    .description('Create a token and print it (the only time its secret is shown); give it to agents with --token-file')
    .option('--ttl <duration>', 'how long the token holds (24h, 90m; 0 for never, which is not advised)', '24h')
    .option('--description <text>', 'what the token is for, shown by list')
    .action(async (flags: { ttl: string; description?: string }) => {
      const ttlMs = flags.ttl === '0' ? 0 : parseDuration(flags.ttl, '--ttl');
      const fresh = newBootstrapToken();
      const api = client(token.opts<ClusterFlags>());
      await api.create(core('secrets', BOOTSTRAP_TOKEN_NAMESPACE), bootstrapTokenSecret(fresh, { ttlMs, description: flags.description }) as Secret);
      out(formatBootstrapToken(fresh));
    });

  token
    .command('list')
    .description('List the tokens: ID, time left, expiry, usages, description (secrets are not shown)')
    .action(async () => {
      const api = client(token.opts<ClusterFlags>());
      const { items } = await api.list<Secret>(core('secrets', BOOTSTRAP_TOKEN_NAMESPACE), { fieldSelector: 'type=bootstrap.kubernetes.io/token' });
      out(['ID'.padEnd(8), 'TTL'.padEnd(10), 'EXPIRES'.padEnd(22), 'USAGES'.padEnd(28), 'DESCRIPTION'].join(' '));
      for (const s of items) {
        const f = bootstrapTokenFields(s as StoredSecret);
        if (!f) continue;
        const expires = f.expiration ? Date.parse(f.expiration) : undefined;
        out([f.id.padEnd(8), (expires === undefined ? '<forever>' : timeLeft(expires - Date.now())).padEnd(10), (f.expiration ?? '<never>').padEnd(22), f.usages.join(',').padEnd(28), f.description ?? ''].join(' '));
      }
    });

  token
    .command('delete <token...>')
    .description('Delete tokens by ID or by the whole ID.SECRET; agents that joined with them keep their own credentials')
    .action(async (ids: string[]) => {
      const api = client(token.opts<ClusterFlags>());
      for (const given of ids) {
        const id = parseBootstrapToken(given)?.id ?? given;
        if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`"${given}" is neither a token ID (6 characters of a-z, 0-9) nor a token ID.SECRET`);
        try {
          await api.delete(core('secrets', BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenSecretName(id)));
          out(`bootstrap token "${id}" deleted`);
        } catch (err) {
          if (ApiError.isNotFound(err)) throw new Error(`there is no bootstrap token "${id}" (lotse token list shows them)`);
          throw err;
        }
      }
    });
}

function timeLeft(ms: number): string {
  if (ms <= 0) return '<expired>';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return h >= 48 ? `${Math.floor(h / 24)}d` : h > 0 ? `${h}h${m}m` : `${m}m`;
}
