/**
 * The cluster as `cluster.yaml` describes it, after validation and defaults.
 * `schema.ts` is the single place that documents each default; these types mirror it.
 */
import type { HostRole, StoreKind } from '../../cluster/cluster-outputs-document';

export type OperatingSystem = 'fedora-coreos' | 'flatcar';

export interface NetworkConfig {
  /** Pod addresses, one /24 per node handed out by flannel. */
  readonly podCidr: string;
  /** Virtual IPs for Services. Must not overlap podCidr or nodeCidr. */
  readonly serviceCidr: string;
  /** Machine addresses inside a cloud VPC (GCE subnetwork, DigitalOcean VPC). */
  readonly nodeCidr: string;
  /** Where every agent serves cluster DNS on its own node (a link-local address on a dummy interface). */
  readonly dnsAddress: string;
  readonly clusterDomain: string;
}

export interface ImagesConfig {
  readonly flannel: string;
  readonly etcd: string;
}

export interface IngressRule {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp';
  /** One port ("443") or a range ("30000-32767"). */
  readonly ports: string;
  readonly sources: readonly string[];
  readonly to: 'all' | 'masters' | 'workers';
}

export interface FirewallConfig {
  /** Extra inbound rules; the only way anything beyond adminCidrs reaches the machines. */
  readonly extraIngress: readonly IngressRule[];
  /** CIDRs that reach the workers' ingress ports 80 and 443 (default 0.0.0.0/0; empty: closed). */
  readonly ingressSources: readonly string[];
}

/** A weekly window, in UTC, in which the OS may reboot into an update it has staged. */
export interface RebootWindow {
  readonly days: readonly ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[];
  /** HH:MM, 24-hour, UTC. */
  readonly start: string;
  readonly lengthMinutes: number;
}

export interface UpdatesConfig {
  /** Zincati (FCOS) and locksmithd (Flatcar) reboot machines only inside this window. */
  readonly rebootWindow: RebootWindow;
}

export interface BootstrapConfig {
  /** Run `lotse bootstrap --outputs` once the machines exist (cloud stacks). */
  readonly enabled: boolean;
  /** How the local-exec provisioner calls lotse. */
  readonly command: string;
  /** Private key the bootstrap logs in with; without it, the keys in the user's ssh-agent. */
  readonly identityFile?: string;
  /** An npm registry mirror serving the pinned Node.js builds (default registry.npmjs.org). */
  readonly nodeRegistry?: string;
}

export interface GceConfig {
  readonly project: string;
  readonly region: string;
  readonly zone: string;
  readonly masters: number;
  readonly workers: number;
  readonly masterType: string;
  readonly workerType: string;
  readonly diskSizeGb: number;
  readonly credentialsFile?: string;
}

export interface DigitalOceanConfig {
  readonly region: string;
  readonly masters: number;
  readonly workers: number;
  readonly masterSize: string;
  readonly workerSize: string;
  /** Fedora CoreOS release used to build the custom image URL (ignored for Flatcar). */
  readonly fcosVersion: string;
  /** Overrides the image URL derived from os/stream/fcosVersion. */
  readonly imageUrl?: string;
}

export interface ScalewayImageObject {
  readonly bucket: string;
  readonly key: string;
}

export interface ScalewayConfig {
  readonly zone: string;
  readonly projectId?: string;
  readonly masters: number;
  readonly workers: number;
  readonly masterType: string;
  readonly workerType: string;
  readonly diskSizeGb: number;
  /** An existing Flatcar image (UUID); or... */
  readonly image?: string;
  /** ...Flatcar's Scaleway qcow2 in Object Storage, imported by the stack. */
  readonly imageObject?: ScalewayImageObject;
}

export interface PiNetworkDefaults {
  /** Default: whichever wired interface exists (FCOS names the Pi 4's onboard port end0, not eth0). */
  readonly interface?: string;
  readonly prefixLength: number;
  readonly gateway?: string;
  readonly dns: readonly string[];
}

export interface PiNode {
  readonly name: string;
  readonly address: string;
  readonly role: HostRole;
  readonly interface?: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
  readonly dns?: readonly string[];
}

export interface RaspberryPiConfig {
  /** The API store on the master; sqlite by default because SD cards fsync slowly. */
  readonly store: StoreKind;
  /** Where `cdktf deploy raspberry-pi` writes the Ignition files and the inventory. */
  readonly outputDir: string;
  readonly network: PiNetworkDefaults;
  readonly nodes: readonly PiNode[];
}

export interface ClusterConfig {
  readonly name: string;
  readonly os: OperatingSystem;
  /** FCOS stream (stable, testing, next) or Flatcar channel (stable, beta, alpha). */
  readonly stream: string;
  readonly sshAuthorizedKeys: readonly string[];
  /** Who may reach SSH (22) and the API (6443). */
  readonly adminCidrs: readonly string[];
  /** The API store on cloud masters. */
  readonly store: StoreKind;
  readonly network: NetworkConfig;
  readonly images: ImagesConfig;
  readonly firewall: FirewallConfig;
  readonly updates: UpdatesConfig;
  readonly bootstrap: BootstrapConfig;
  readonly gce?: GceConfig;
  readonly digitalocean?: DigitalOceanConfig;
  readonly scaleway?: ScalewayConfig;
  readonly raspberryPi?: RaspberryPiConfig;
}
