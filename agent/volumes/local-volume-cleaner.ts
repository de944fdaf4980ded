import fs from 'node:fs';
import path from 'node:path';
import type { PersistentVolume } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { LOCAL_PATH_ROOT } from '../../kube/local-path';
import { core } from '../../kube/resource-path';

export interface RunningVolumeCleaner {
  /** One pass now (tests); resolves with the directories removed. */
  sweep(): Promise<string[]>;
  stop(): void;
}

/**
 * Removes the directories of local-path volumes that no PersistentVolume names any more (the
 * provisioner deleted the volume under the Delete reclaim policy): the data goes with its claim,
 * as with k3s. The directory listing is taken before the volume list, so a volume made in between
 * is always in the list that decides.
 */
export function startLocalVolumeCleaner(client: KubeClient, log: (msg: string) => void, everyMs = 10_000, root = LOCAL_PATH_ROOT): RunningVolumeCleaner {
  const sweep = async (): Promise<string[]> => {
    let dirs: string[];
    try {
      dirs = fs.readdirSync(root).filter((d) => d.startsWith('pvc-'));
    } catch {
      return [];
    }
    if (dirs.length === 0) return [];
    const volumes = (await client.list<PersistentVolume>(core('persistentvolumes'))).items;
    const named = new Set(volumes.map((v) => v.spec?.local?.path).filter((p): p is string => Boolean(p)));
    const removed: string[] = [];
    for (const d of dirs) {
      const full = path.join(root, d);
      if (named.has(full)) continue;
      fs.rmSync(full, { recursive: true, force: true });
      removed.push(full);
      log(`removed ${full}: its PersistentVolume is gone`);
    }
    return removed;
  };
  const timer = setInterval(() => void sweep().catch((err: Error) => log(`local volume cleanup: ${err.message}`)), everyMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
