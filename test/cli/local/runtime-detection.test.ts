import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { detectRuntime, INSTALL_HINT } from '../../../cli/local/runtime-detection';

/** A unix socket answering /_ping like an engine (or 500 when broken). */
async function fakeEngine(socketPath: string, status = 200): Promise<http.Server> {
  const server = http.createServer((req, res) => res.writeHead(req.url === '/_ping' ? status : 404).end('OK'));
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return server;
}

describe('detectRuntime', () => {
  let dir: string;
  const servers: http.Server[] = [];
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-detect-'))));
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const own = (): string => path.join(dir, 'own.sock');

  it('uses the first socket that answers /_ping, skipping dead ones', async () => {
    const dead = path.join(dir, 'dead.sock');
    fs.writeFileSync(dead, '');
    const docker = path.join(dir, 'docker.sock');
    servers.push(await fakeEngine(docker));
    const found = await detectRuntime(own(), { PATH: '', LOTSE_ENGINE_SOCKETS: `${dead}:${docker}` });
    expect(found).toEqual({ kind: 'docker', endpoint: `unix://${docker}`, ownService: false });
  });

  it('calls a socket under a podman path podman', async () => {
    const podman = path.join(dir, 'podman.sock');
    servers.push(await fakeEngine(podman));
    expect((await detectRuntime(own(), { PATH: '', LOTSE_ENGINE_SOCKETS: podman })).kind).toBe('podman');
  });

  it('without an answering socket, serves the API of the podman binary on PATH on its own socket', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'podman'), '#!/bin/sh\n', { mode: 0o755 });
    const broken = path.join(dir, 'broken.sock');
    servers.push(await fakeEngine(broken, 500));
    const found = await detectRuntime(own(), { PATH: `/nonexistent:${bin}`, LOTSE_ENGINE_SOCKETS: broken });
    expect(found).toEqual({ kind: 'podman', endpoint: `unix://${own()}`, ownService: true, podman: path.join(bin, 'podman') });
  });

  it('honours DOCKER_HOST, and says so when it does not answer', async () => {
    const docker = path.join(dir, 'docker.sock');
    servers.push(await fakeEngine(docker));
    expect(await detectRuntime(own(), { DOCKER_HOST: `unix://${docker}` })).toEqual({ kind: 'docker', endpoint: `unix://${docker}`, ownService: false });
    await expect(detectRuntime(own(), { DOCKER_HOST: `unix://${dir}/none.sock` })).rejects.toThrow(/does not answer.*unset DOCKER_HOST/);
  });

  it('with nothing at all, tells how to install podman or Docker', async () => {
    const notExecutable = path.join(dir, 'bin');
    fs.mkdirSync(notExecutable);
    fs.writeFileSync(path.join(notExecutable, 'podman'), '', { mode: 0o644 });
    await expect(detectRuntime(own(), { PATH: notExecutable, LOTSE_ENGINE_SOCKETS: '' })).rejects.toThrow(INSTALL_HINT);
    expect(INSTALL_HINT).toMatch(/apt-get install podman runc/);
  });
});
