import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { HostKeyError, hostId, verifyHostKey, type VerifyOptions } from './host-keys';
import type { InventoryHost } from './inventory';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshOptions extends VerifyOptions {
  connectTimeoutMs?: number;
}

/** A failure talking to one host: what we tried, on which host, and what the remote side said last. */
export class SshError extends Error {
  constructor(
    message: string,
    readonly host: string,
    readonly outputTail = '',
  ) {
    super(message);
  }
}

const KEEPALIVE_MS = 10_000;

/**
 * One SSH session to one inventory host (through its jump host if it has one), with the helpers the
 * bootstrap needs: run a command, write a file over SFTP, open a TCP tunnel to the host's loopback.
 */
export class SshConnection {
  private sftpSession?: Promise<SFTPWrapper>;
  private lostReason?: string;

  private constructor(
    readonly host: InventoryHost,
    private readonly client: Client,
    private readonly jump?: Client,
  ) {
    client.on('error', (err: Error) => (this.lostReason = err.message));
    client.on('close', () => (this.lostReason ??= 'the connection closed'));
    // A jump host that drops later must not crash the run with an unhandled 'error'.
    jump?.on('error', (err: Error) => (this.lostReason ??= `the jump host ${host.jump?.host} failed: ${err.message}`));
  }

  static async connect(host: InventoryHost, options: SshOptions): Promise<SshConnection> {
    let jump: Client | undefined;
    let sock: Duplex | undefined;
    if (host.jump) {
      const jumpHost: InventoryHost = { ...host, name: `${host.name}'s jump host ${host.jump.host}`, address: host.jump.host, port: host.jump.port, user: host.jump.user, jump: undefined };
      jump = await open(jumpHost, options);
      sock = await forward(jump, host.address, host.port).catch((err: Error) => {
        jump?.end();
        throw new SshError(`cannot reach ${host.name} (${host.address}:${host.port}) through the jump host ${host.jump?.host}: ${err.message}`, host.name);
      });
    }
    const client = await open(host, options, sock).catch((err) => {
      jump?.end();
      throw err;
    });
    return new SshConnection(host, client, jump);
  }

  /** Runs a shell command; never throws on a non-zero exit, only when the connection fails. */
  exec(command: string, stdin?: string | Buffer): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.lostReason) return reject(this.lost(''));
      this.client.exec(command, (err, stream) => {
        if (err) return reject(this.lost('', err));
        let stdout = '';
        let stderr = '';
        let code: number | undefined;
        stream.on('error', (e: Error) => reject(this.lost(tail(stdout + stderr), e)));
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (c: number | null, signal?: string) => (code = c ?? (signal ? 128 : 255)));
        stream.on('close', () => {
          if (code === undefined) return reject(this.lost(tail(stdout + stderr)));
          resolve({ code, stdout, stderr });
        });
        stream.end(stdin);
      });
    });
  }

  /** Like exec(), but a non-zero exit is an error carrying the command's output tail. */
  async run(command: string, what: string, stdin?: string | Buffer): Promise<string> {
    const r = await this.exec(command, stdin);
    if (r.code !== 0) throw new SshError(`${what} failed on ${this.host.name} (exit ${r.code})`, this.host.name, tail(r.stdout + r.stderr));
    return r.stdout;
  }

  /** Writes a file atomically (temp file, then rename) with the given mode. */
  async writeFile(path: string, content: string | Buffer, mode: number): Promise<void> {
    const sftp = await this.sftp();
    const temp = `${path}.lotse-upload`;
    await new Promise<void>((resolve, reject) => {
      const out = sftp.createWriteStream(temp, { mode });
      out.on('error', (err: Error) => reject(this.lost('', err)));
      out.on('close', () => resolve());
      out.end(content);
    });
    await new Promise<void>((resolve, reject) =>
      sftp.chmod(temp, mode, (err) => (err ? reject(this.lost('', err)) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      sftp.ext_openssh_rename(temp, path, (err) => (err ? reject(new SshError(`cannot move ${temp} to ${path} on ${this.host.name}: ${err.message}`, this.host.name)) : resolve())),
    );
  }

  /** A TCP stream to HOST:PORT as seen from the host (default its loopback), for API and etcd calls. */
  tunnel(port: number, toHost = '127.0.0.1'): Promise<Duplex> {
    return forward(this.client, toHost, port).catch((err: Error) => {
      throw new SshError(`cannot open a tunnel to ${toHost}:${port} on ${this.host.name}: ${err.message}`, this.host.name);
    });
  }

  close(): void {
    this.client.end();
    this.jump?.end();
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise<SFTPWrapper>((resolve, reject) =>
      this.client.sftp((err, sftp) => (err ? reject(this.lost('', err)) : resolve(sftp))),
    );
    this.sftpSession.catch(() => (this.sftpSession = undefined));
    return this.sftpSession;
  }

  private lost(outputTail: string, err?: Error): SshError {
    const why = this.lostReason ?? err?.message ?? 'the channel closed before the command finished';
    return new SshError(`lost the SSH connection to ${this.host.name} (${this.host.address}:${this.host.port}): ${why}`, this.host.name, outputTail);
  }
}

function forward(client: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream))));
}

function open(host: InventoryHost, options: SshOptions, sock?: Duplex): Promise<Client> {
  const config: ConnectConfig = {
    host: host.address,
    port: host.port,
    username: host.user,
    sock,
    readyTimeout: options.connectTimeoutMs ?? 20_000,
    keepaliveInterval: KEEPALIVE_MS,
    keepaliveCountMax: 3,
  };
  if (host.identityFile) {
    try {
      config.privateKey = readFileSync(host.identityFile);
    } catch (err) {
      throw new SshError(`cannot read the identity file ${host.identityFile} of ${host.name}: ${(err as Error).message}`, host.name);
    }
    config.passphrase = process.env.LOTSE_SSH_PASSPHRASE;
  } else if (process.env.SSH_AUTH_SOCK) {
    config.agent = process.env.SSH_AUTH_SOCK;
  } else {
    throw new SshError(`${host.name} has no identityFile in the inventory and no ssh-agent is running (SSH_AUTH_SOCK is unset); add identityFile or start ssh-agent and ssh-add your key`, host.name);
  }
  const id = hostId(host.address, host.port);
  let hostKeyError: Error | undefined;
  config.hostVerifier = (key: Buffer): boolean => {
    try {
      verifyHostKey(host.name, id, key, options);
      return true;
    } catch (err) {
      hostKeyError = err as Error;
      return false;
    }
  };
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    // `on`, not `once`: ssh2 may emit a second error (a refused connection, then "Connection lost
    // before handshake" while sshd restarts), and an unhandled one would crash the bootstrap. After
    // a rejection or the ready event the later ones change nothing.
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      client.end();
      reject(hostKeyError ?? explain(host, err, config));
    });
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 throws at once for a key file it cannot parse.
      reject(explain(host, err as Error, config));
    }
  });
}

function explain(host: InventoryHost, err: Error & { level?: string; code?: string }, config: ConnectConfig): Error {
  const where = `${host.name} (${host.user}@${host.address}:${host.port})`;
  if (err instanceof HostKeyError) return err;
  if (err.level === 'client-authentication') {
    const how = config.privateKey ? `the key ${host.identityFile}` : `the keys in your ssh-agent (${config.agent})`;
    return new SshError(`${where} refused ${how}: permission denied. Check identityFile and that its public key is in ~${host.user}/.ssh/authorized_keys there`, host.name);
  }
  if (err.level === 'client-timeout' || /Timed out/.test(err.message)) {
    return new SshError(`cannot reach ${where}: no SSH handshake within ${(config.readyTimeout ?? 0) / 1000} s; check the address, the port and the firewall`, host.name);
  }
  if (err.code === 'ECONNREFUSED') return new SshError(`cannot reach ${where}: connection refused; is sshd running on port ${host.port}?`, host.name);
  // A listener closing under the connection (sshd stopping or restarting while the machine boots):
  // the reset comes on connect, or on the first read when the dying sshd had already accepted it.
  // Either way no SSH handshake completed (explain only sees errors before 'ready').
  if (err.code === 'ECONNRESET') return new SshError(`cannot reach ${where}: connection reset while connecting; is sshd (re)starting on port ${host.port}?`, host.name);
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ETIMEDOUT') {
    return new SshError(`cannot reach ${where}: ${err.code === 'ETIMEDOUT' ? 'connection timed out' : 'no route to host'}; check the address and that the machine is up`, host.name);
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new SshError(`cannot resolve the address of ${where}: ${err.message}`, host.name);
  if (/private key|Cannot parse|Unsupported key/.test(err.message)) {
    return new SshError(`cannot use the identity file ${host.identityFile} for ${host.name}: ${err.message}${config.passphrase ? '' : ' (an encrypted key needs LOTSE_SSH_PASSPHRASE)'}`, host.name);
  }
  return new SshError(`SSH to ${where} failed: ${err.message}`, host.name);
}

/** The last lines of a command's output, enough to see why it failed. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
