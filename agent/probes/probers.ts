import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from 'kubernetes-types/core/v1';
import type { ContainerRuntime } from '../runtime/container-runtime';

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, in the kubelet's words ("HTTP probe failed with statuscode: 500"). */
  message: string;
}

export interface ProbeEnv {
  runtime: ContainerRuntime;
  containerId: string;
  /** Address that reaches the pod's network namespace from the node. */
  podIP: string;
  container: Container;
}

/** Runs one probe once, with its timeout (timeoutSeconds, default 1 s). */
export async function runProbe(probe: Probe, env: ProbeEnv): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], env, timeoutMs);
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, env.container);
      return await httpProbe(g.scheme === 'HTTPS' ? 'https' : 'http', g.host || env.podIP, port, g.path ?? '/', g.httpHeaders ?? [], timeoutMs);
    }
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || env.podIP, resolvePort(probe.tcpSocket.port, env.container), timeoutMs);
    return { ok: false, message: 'probe has no handler this agent supports (exec, httpGet, tcpSocket)' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`probe port "${port}" names no port of container "${container.name}"`);
  return found.containerPort;
}

async function execProbe(command: string[], env: ProbeEnv, timeoutMs: number): Promise<ProbeOutcome> {
  const r = await env.runtime.exec(env.containerId, command, timeoutMs);
  if (r.exitCode === 0) return { ok: true, message: '' };
  return { ok: false, message: `command ${JSON.stringify(command)} exited with ${r.exitCode}: ${(r.stdout + r.stderr).trim().slice(0, 200)}` };
}

function httpProbe(scheme: 'http' | 'https', host: string, port: number, path: string, headers: Array<{ name: string; value: string }>, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const lib = scheme === 'https' ? https : http;
    const req = lib.request(
      {
        host, port, path, method: 'GET', timeout: timeoutMs, agent: false,
        headers: { 'user-agent': 'kube-probe/1.32', accept: '*/*', ...Object.fromEntries(headers.map((h) => [h.name, h.value])) },
        ...(scheme === 'https' ? { rejectUnauthorized: false } : {}), // as the kubelet: probes do not verify certificates
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get "${scheme}://${host}:${port}${path}": context deadline exceeded (timeout ${timeoutMs} ms)`)));
    req.on('error', (err) => resolve({ ok: false, message: `Get "${scheme}://${host}:${port}${path}": ${err.message}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` });
    });
  });
}
