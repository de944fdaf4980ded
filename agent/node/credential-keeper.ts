import { jittered } from '../../kube/backoff';
import { obtainCredentialsWithRetry, renewCredential, saveCredentials, type JoinOptions, type NodeCredentials } from './join-client';

/**
 * Renewal falls at a random point from 70 to 90 % of the credential's lifetime, drawn for each
 * credential, as the kubelet rotates its certificate: the nodes of a stack joined within the same
 * minutes and would otherwise all renew within the same minutes, every lifetime.
 */
const RENEW_FROM = 0.7;
const RENEW_SPREAD = 0.2;
/** A failed renewal is tried again after 30 to 60 s. */
const RETRY_MS = 30_000;

export interface CredentialKeeperOptions {
  join: JoinOptions;
  /** Hands the current credential to whoever sends requests (the agent's KubeClient). */
  use(token: string): void;
  /** After joining again: the Node may have been deleted, so register it now rather than at the next status write. */
  rejoined?(): void;
  log(message: string): void;
  /** Random in [0, 1) for the renewal point and the retry's jitter (tests fix it). */
  random?: () => number;
}

/**
 * Keeps the node's credential valid: renews it at 70-90 % of its lifetime (the old one holds until its
 * own expiry, so nothing in flight fails), and when the master answers 401 — the credential
 * expired while the agent was down, or the Node was deleted and its credentials revoked — joins
 * again with the join token. A join token that has expired meanwhile leaves the node out, saying so.
 */
export class CredentialKeeper {
  private timer: NodeJS.Timeout | undefined;
  private rejoining: Promise<void> | undefined;
  private stopped = false;
  private renewAt: number;

  constructor(
    private creds: NodeCredentials,
    private readonly o: CredentialKeeperOptions,
  ) {
    this.renewAt = this.drawRenewalPoint();
  }

  start(): this {
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The master refused the credential: join again (once, however many requests saw the 401). */
  unauthorized(): void {
    if (this.stopped || this.rejoining) return;
    this.o.log(`the master refused node ${this.o.join.nodeName}'s credential (expired, or revoked when the Node was deleted); joining again`);
    this.rejoining = obtainCredentialsWithRetry({ ...this.o.join, fresh: true }, this.o.log)
      .then((creds) => {
        if (this.stopped) return;
        this.adopt(creds);
        this.o.log(`node ${this.o.join.nodeName} joined again`);
        this.o.rejoined?.();
      })
      .catch((err: Error) => this.o.log(`node ${this.o.join.nodeName} cannot join again: ${err.message} (give the agent a valid bootstrap token, lotse token create on the master)`))
      .finally(() => {
        // Requests that failed just before the new credential was adopted do not start another join.
        setTimeout(() => (this.rejoining = undefined), 5_000).unref();
      });
  }

  /** Renews now; schedules the next renewal (or a retry). */
  async renew(): Promise<void> {
    try {
      const renewed = await renewCredential(this.o.join.server, this.o.join.ca, this.creds.token);
      this.adopt({ ...this.creds, ...renewed, obtainedAt: new Date().toISOString() });
      this.o.log(`node credential renewed; it holds until ${renewed.tokenExpiresAt}`);
    } catch (err) {
      const wait = jittered(RETRY_MS, 1, this.o.random);
      this.o.log(`${(err as Error).message}; retrying in ${Math.round(wait / 1000)} s`);
      this.arm(wait);
    }
  }

  private adopt(creds: NodeCredentials): void {
    this.creds = creds;
    this.renewAt = this.drawRenewalPoint();
    this.o.use(creds.token);
    saveCredentials(this.o.join, creds);
    this.schedule();
  }

  private schedule(): void {
    const expires = Date.parse(this.creds.tokenExpiresAt ?? '');
    if (Number.isNaN(expires)) return; // a master without credential expiry
    const obtained = Date.parse(this.creds.obtainedAt ?? '') || Date.now();
    this.arm(obtained + this.renewAt * Math.max(0, expires - obtained) - Date.now());
  }

  private drawRenewalPoint(): number {
    return RENEW_FROM + RENEW_SPREAD * (this.o.random ?? Math.random)();
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // setTimeout cannot wait longer than ~24.8 days: wake up then and look again.
    const wait = Math.min(Math.max(ms, 0), 2 ** 31 - 1);
    this.timer = setTimeout(() => (wait < ms ? this.schedule() : void this.renew()), wait);
    this.timer.unref();
  }
}
