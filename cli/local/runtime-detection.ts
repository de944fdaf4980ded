import fs from 'node:fs';
import path from 'node:path';
import { ENGINE_SOCKET_ORDER } from '../../agent/runtime/endpoint';
import { pingEngine } from './engine-ping';

/**
 * The engine the local agents use. `endpoint` is set when a Docker-API socket already answers;
 * otherwise `podman` names the binary and `lotse up` serves the API itself with `podman system service`.
 */
export type DetectedRuntime =
  | { kind: 'docker' | 'podman'; endpoint: string; ownService: false }
  | { kind: 'podman'; endpoint: string; ownService: true; podman: string };


export const INSTALL_HINT =
  'no container runtime found (no podman on PATH, no Docker or podman socket): install one — "apt-get install podman runc" or Docker (https://docs.docker.com/engine/install/) — then run lotse up again';

/**
 * Finds podman or docker: $DOCKER_HOST, then a socket that answers /_ping, then the podman binary
 * (whose API `lotse up` then serves on `ownSocket`). Throws the install hint when there is none.
 */
export async function detectRuntime(ownSocket: string, env: NodeJS.ProcessEnv = process.env): Promise<DetectedRuntime> {
  if (env.DOCKER_HOST) {
    const socket = env.DOCKER_HOST.replace(/^unix:\/\//, '');
    if (env.DOCKER_HOST.startsWith('unix://') && !(await pingEngine(socket))) {
      throw new Error(`DOCKER_HOST=${env.DOCKER_HOST} does not answer: start the engine behind it, or unset DOCKER_HOST`);
    }
    return { kind: 'docker', endpoint: env.DOCKER_HOST, ownService: false };
  }
  // LOTSE_ENGINE_SOCKETS (colon-separated, may be empty) replaces the list; tests hide the host's engines with it.
  const sockets = env.LOTSE_ENGINE_SOCKETS !== undefined ? env.LOTSE_ENGINE_SOCKETS.split(':').filter(Boolean) : ENGINE_SOCKET_ORDER;
  for (const socket of sockets) {
    if (fs.existsSync(socket) && (await pingEngine(socket))) {
      return { kind: socket.includes('podman') ? 'podman' : 'docker', endpoint: `unix://${socket}`, ownService: false };
    }
  }
  const podman = findOnPath('podman', env.PATH ?? '');
  if (podman) return { kind: 'podman', endpoint: `unix://${ownSocket}`, ownService: true, podman };
  throw new Error(INSTALL_HINT);
}

export function findOnPath(binary: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
