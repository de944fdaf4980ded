import type { Container, Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, quantityInt } from '../../kube/quantity';

export interface Resources {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
}

/** Requests used for scoring when a container asks for nothing, as upstream's non-zero defaults. */
export const DEFAULT_SCORE_CPU_MILLIS = 100;
export const DEFAULT_SCORE_MEMORY = 200 * 1024 * 1024;

/**
 * What a pod reserves on its node: the larger of the sum of its containers and its largest init
 * container, plus the pod overhead, as Kubernetes computes it.
 */
export function podRequests(pod: Pod): Resources {
  const sum = (cs: Container[] | undefined, nonZero: boolean): Resources => {
    const r = { cpu: 0, memory: 0 };
    for (const c of cs ?? []) {
      const req = c.resources?.requests ?? c.resources?.limits ?? {};
      const cpu = cpuMillis(req.cpu);
      const mem = quantityInt(req.memory);
      r.cpu += nonZero && !req.cpu ? DEFAULT_SCORE_CPU_MILLIS : cpu;
      r.memory += nonZero && !req.memory ? DEFAULT_SCORE_MEMORY : mem;
    }
    return r;
  };
  return combine(pod, sum(pod.spec?.containers, false), sum);
}

/** Like podRequests, but a container without requests counts as 100m / 200Mi, so scoring still spreads. */
export function podScoreRequests(pod: Pod): Resources {
  return combine(pod, sumNonZero(pod.spec?.containers), (cs) => sumNonZero(cs));
}

function sumNonZero(cs: Container[] | undefined): Resources {
  const r = { cpu: 0, memory: 0 };
  for (const c of cs ?? []) {
    const req = c.resources?.requests ?? c.resources?.limits ?? {};
    r.cpu += req.cpu ? cpuMillis(req.cpu) : DEFAULT_SCORE_CPU_MILLIS;
    r.memory += req.memory ? quantityInt(req.memory) : DEFAULT_SCORE_MEMORY;
  }
  return r;
}

function combine(pod: Pod, main: Resources, sum: (cs: Container[] | undefined, nonZero: boolean) => Resources): Resources {
  const r = { ...main };
  for (const ic of pod.spec?.initContainers ?? []) {
    const one = sum([ic], false);
    r.cpu = Math.max(r.cpu, one.cpu);
    r.memory = Math.max(r.memory, one.memory);
  }
  const overhead = pod.spec?.overhead ?? {};
  r.cpu += cpuMillis(overhead.cpu);
  r.memory += quantityInt(overhead.memory);
  return r;
}

/** "protocol/hostIP/port" for every hostPort the pod asks for. */
export function podHostPorts(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP ?? '0.0.0.0'}/${p.hostPort}`);
    }
  }
  return out;
}

/** Two host ports clash when protocol and port match and either binds all addresses or both bind the same one. */
export function hostPortsConflict(a: string, b: string): boolean {
  const [pa, ia, na] = a.split('/');
  const [pb, ib, nb] = b.split('/');
  if (pa !== pb || na !== nb) return false;
  return ia === ib || ia === '0.0.0.0' || ib === '0.0.0.0';
}
