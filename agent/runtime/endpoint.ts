import fs from 'node:fs';

/** How dockerode reaches the engine. */
export type EngineEndpoint = { socketPath: string } | { host: string; port: number; protocol: 'http' };

/** Where each engine serves the Docker Engine API on a host; every default in lotse comes from here. */
export const ENGINE_SOCKETS = { podman: '/run/podman/podman.sock', docker: '/var/run/docker.sock' } as const;

/** Sockets tried in order when no endpoint is given: podman first (Fedora CoreOS), then docker (Flatcar). */
export const ENGINE_SOCKET_ORDER: readonly string[] = [ENGINE_SOCKETS.podman, ENGINE_SOCKETS.docker];

/**
 * Resolves `--runtime-endpoint unix:///PATH` (or tcp://HOST:PORT), else $DOCKER_HOST, else the
 * first well-known socket that exists.
 */
export function resolveEndpoint(explicit?: string, env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const given = explicit ?? env.DOCKER_HOST;
  if (given) return parseEndpoint(given);
  const found = ENGINE_SOCKET_ORDER.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `no container engine socket found (tried ${ENGINE_SOCKET_ORDER.join(', ')} and $DOCKER_HOST): start one ` +
        '(systemctl enable --now podman.socket, or docker) or pass --runtime-endpoint unix:///PATH',
    );
  }
  return { socketPath: found };
}

export function parseEndpoint(value: string): EngineEndpoint {
  if (value.startsWith('unix://')) return { socketPath: value.slice('unix://'.length) };
  if (value.startsWith('/')) return { socketPath: value };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(value);
  if (m) return { host: m[1], port: Number(m[2]), protocol: 'http' };
  throw new Error(`runtime endpoint "${value}" is neither unix:///PATH nor tcp://HOST:PORT`);
}
