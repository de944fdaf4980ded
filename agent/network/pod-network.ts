import fs from 'node:fs';
import type { ContainerRuntime } from '../runtime/container-runtime';
import { stampOf, unchangedSince, type FileStamp } from '../file-stamp';
import { FLANNEL_NETWORK_NAME, FLANNEL_SUBNET_FILE, parseSubnetEnv } from './flannel';
import { isSubnetInUseRefusal, withoutVtepAddress } from './vtep-address';

export interface PodNetworkOptions {
  runtime: ContainerRuntime;
  /** flannel's subnet.env (default /run/flannel/subnet.env). */
  subnetFile?: string;
  /**
   * true: pods wait (and the node is NotReady) until subnet.env exists, as the kubelet waits for
   * its CNI plugin; false: without the file pods use the engine's default network (single-host use).
   */
  required: boolean;
  /** How often the file is read again (default 1 s): flannel rewrites it after a restart or re-lease. */
  pollMs?: number;
  log?: (message: string) => void;
}

/**
 * The runtime network pods join, following flannel's subnet.env: read at start, re-read while
 * the agent runs, and a new network is set up when its subnet changes (a re-leased node, or
 * flannel arriving after the agent). Pods created afterwards join the new network.
 */
export class PodNetwork {
  private current?: string;
  private currentSubnet?: string;
  private problem?: string;
  private lastText?: string;
  /** The file as it was when last read: a poll that finds it so stats it and reads nothing. */
  private lastStamp?: FileStamp;
  private timer?: NodeJS.Timeout;
  private readonly file: string;

  constructor(private readonly o: PodNetworkOptions) {
    this.file = o.subnetFile ?? FLANNEL_SUBNET_FILE;
    this.problem = o.required ? `waiting for the pod network: ${this.file} does not exist yet (is flannel running?)` : undefined;
  }

  /** The runtime network for new pods, undefined for the engine's default. */
  network(): string | undefined {
    return this.current;
  }

  /** This node's pod subnet (flannel's lease, e.g. 10.244.1.0/24), once the network is set up. */
  subnet(): string | undefined {
    return this.currentSubnet;
  }

  /** Why pods cannot get a network now (kubelet's NetworkReady=false), undefined when they can. */
  notReady(): string | undefined {
    return this.problem;
  }

  /** Reads the file once now, then keeps following it. */
  async start(onChange?: () => void): Promise<void> {
    await this.check();
    const loop = (): void => {
      this.timer = setTimeout(() => {
        const before = `${this.current}|${this.problem}`;
        void this.check().finally(() => {
          if (`${this.current}|${this.problem}` !== before) onChange?.();
          if (this.timer) loop();
        });
      }, this.o.pollMs ?? 1000);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.lastText !== undefined && unchangedSince(this.file, this.lastStamp)) return;
    let text: string | undefined;
    let stamp: FileStamp | undefined;
    try {
      stamp = stampOf(this.file);
      if (stamp) text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return this.fail(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    // Missing (no flannel on this node yet, or it is restarting): known from the stat, without
    // the error a read would build every second.
    if (text === undefined) return this.missing();
    if (text === this.lastText) {
      this.lastStamp = stamp; // rewritten as it was
      return;
    }
    let subnet: ReturnType<typeof parseSubnetEnv>;
    try {
      subnet = parseSubnetEnv(text);
    } catch (err) {
      this.lastText = text; // read again only once flannel rewrites it
      this.lastStamp = stamp;
      return this.fail(`flannel's ${this.file} cannot be used: ${(err as Error).message}`);
    }
    try {
      const name = `${FLANNEL_NETWORK_NAME}-${subnet.subnet.replace(/[./]/g, '-')}`;
      const ensure = (): Promise<string> => this.o.runtime.ensureNetwork(name, subnet.subnet, subnet.mtu, subnet.gateway);
      const network = await ensure().catch((err: unknown) => (isSubnetInUseRefusal(err) ? withoutVtepAddress(subnet.subnet, ensure, this.o.log) : Promise.reject(err)));
      if (network !== this.current) this.o.log?.(`pods join runtime network ${network} (flannel subnet ${subnet.subnet}, MTU ${subnet.mtu})`);
      this.current = network;
      this.currentSubnet = subnet.subnet;
      this.problem = undefined;
      this.lastText = text;
      this.lastStamp = stamp;
    } catch (err) {
      this.fail(`the runtime network for flannel's subnet ${subnet.subnet} cannot be set up: ${(err as Error).message}`);
    }
  }

  private missing(): void {
    // A vanished file (flannel restarting) keeps the network pods already use.
    if (this.o.required && this.current === undefined) this.fail(`waiting for the pod network: ${this.file} does not exist yet (is flannel running?)`);
  }

  private fail(message: string): void {
    if (message !== this.problem) this.o.log?.(message);
    // Without a network of its own yet, the node cannot run pods; with one, it keeps using it.
    this.problem = this.current === undefined && this.o.required ? message : undefined;
  }
}
