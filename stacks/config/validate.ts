import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { ClusterConfig, PiNode, RaspberryPiConfig } from './cluster-config';
import { ConfigError, type ConfigProblem } from './config-error';
import { clusterSchema } from './schema';
import { contains, overlaps, parseCidr, parseIpv4, type Cidr } from './cidr';

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  // useDefaults fills in every default from schema.ts; allErrors reports all problems at once.
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(clusterSchema);
  return compiled;
}

/** "/raspberryPi/nodes/1/role" -> "raspberryPi.nodes[1].role" */
function keyOf(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (child !== undefined) parts.push(child);
  return parts.reduce((key, part) => (/^\d+$/.test(part) ? `${key}[${part}]` : key ? `${key}.${part}` : part), '');
}

function describe(error: ErrorObject): ConfigProblem {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { key: keyOf(error.instancePath, String(params.additionalProperty)), message: 'unknown key; check its spelling against cluster.example.yaml' };
    case 'required':
      return { key: keyOf(error.instancePath, String(params.missingProperty)), message: 'is required (see cluster.example.yaml)' };
    case 'enum':
      return { key: keyOf(error.instancePath), message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}` };
    case 'pattern':
      return { key: keyOf(error.instancePath), message: `has the wrong form (expected ${String(params.pattern)})` };
    default:
      return { key: keyOf(error.instancePath) || '(top level)', message: error.message ?? error.keyword };
  }
}

const STREAMS: Record<string, readonly string[]> = {
  'fedora-coreos': ['stable', 'testing', 'next'],
  flatcar: ['stable', 'beta', 'alpha', 'lts'],
};

function cidrProblem(key: string, text: string, problems: ConfigProblem[]): Cidr | undefined {
  const cidr = parseCidr(text);
  if (!cidr) problems.push({ key, message: `"${text}" is not an IPv4 CIDR with zero host bits (e.g. 10.244.0.0/16)` });
  return cidr;
}

function checkNetwork(config: ClusterConfig, problems: ConfigProblem[]): void {
  const named: Array<[string, Cidr | undefined]> = (['podCidr', 'serviceCidr', 'nodeCidr'] as const).map((k) => [
    `network.${k}`,
    cidrProblem(`network.${k}`, config.network[k], problems),
  ]);
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [keyA, a] = named[i];
      const [keyB, b] = named[j];
      if (a && b && overlaps(a, b)) problems.push({ key: keyB, message: `${b.text} overlaps ${keyA} (${a.text}); pick disjoint ranges` });
    }
  }
  const pod = named[0][1];
  // flannel leases one /24 per node out of podCidr.
  if (pod && pod.prefix > 23) problems.push({ key: 'network.podCidr', message: `${pod.text} is too small: flannel gives each node a /24, use /23 or larger` });
  config.adminCidrs.forEach((c, i) => cidrProblem(`adminCidrs[${i}]`, c, problems));
  config.firewall.ingressSources.forEach((c, i) => cidrProblem(`firewall.ingressSources[${i}]`, c, problems));
  config.firewall.extraIngress.forEach((rule, i) =>
    rule.sources.forEach((c, j) => cidrProblem(`firewall.extraIngress[${i}].sources[${j}]`, c, problems)),
  );
}

/** The operating system each enabled target boots; Scaleway has only Flatcar, the Pi stack only FCOS. */
export function operatingSystemsInUse(config: ClusterConfig): Array<[string, string]> {
  const used: Array<[string, string]> = [];
  if (config.gce) used.push(['gce', config.os]);
  if (config.digitalocean) used.push(['digitalocean', config.os]);
  if (config.scaleway) used.push(['scaleway', 'flatcar']);
  if (config.raspberryPi) used.push(['raspberryPi', 'fedora-coreos']);
  return used;
}

function checkStream(config: ClusterConfig, problems: ConfigProblem[]): void {
  for (const [target, os] of operatingSystemsInUse(config)) {
    if (!STREAMS[os].includes(config.stream)) {
      problems.push({ key: 'stream', message: `"${config.stream}" is not a ${os} stream (used by ${target}); use one of ${STREAMS[os].join(', ')}` });
    }
  }
}

/** locksmithd (Flatcar) takes one window start: one weekday, or a time for every day. */
function checkRebootWindow(config: ClusterConfig, problems: ConfigProblem[]): void {
  const days = config.updates.rebootWindow.days;
  const flatcar = operatingSystemsInUse(config).filter(([, os]) => os === 'flatcar').map(([target]) => target);
  if (flatcar.length > 0 && days.length !== 1 && days.length !== 7) {
    problems.push({ key: 'updates.rebootWindow.days', message: `Flatcar (used by ${flatcar.join(', ')}) takes one day or all seven, not ${days.join(', ')}; its locksmithd has a single window start` });
  }
}

function checkClouds(config: ClusterConfig, problems: ConfigProblem[]): void {
  const clouds = (['gce', 'digitalocean', 'scaleway'] as const).filter((c) => config[c] !== undefined);
  for (const cloud of clouds) {
    if (config[cloud]!.masters < 1) problems.push({ key: `${cloud}.masters`, message: 'must be at least 1: the cluster needs a master' });
  }
  if (clouds.length > 0 && config.adminCidrs.length === 0) {
    problems.push({ key: 'adminCidrs', message: `is empty, so nobody could reach SSH or the API of ${clouds.join(', ')}; add your address, e.g. 203.0.113.7/32` });
  }
  const scw = config.scaleway;
  if (scw && (scw.image === undefined) === (scw.imageObject === undefined)) {
    problems.push({ key: 'scaleway.image', message: 'set exactly one of scaleway.image (an image UUID) or scaleway.imageObject (bucket and key of Flatcar\'s Scaleway qcow2)' });
  }
}

function checkPiNode(pi: RaspberryPiConfig, node: PiNode, i: number, problems: ConfigProblem[]): void {
  const key = `raspberryPi.nodes[${i}]`;
  const address = parseIpv4(node.address);
  if (address === undefined) problems.push({ key: `${key}.address`, message: `"${node.address}" is not an IPv4 address` });
  const gateway = node.gateway ?? pi.network.gateway;
  const prefix = node.prefixLength ?? pi.network.prefixLength;
  if (gateway === undefined) {
    problems.push({ key: `${key}.gateway`, message: 'no gateway: set raspberryPi.network.gateway or this node\'s gateway' });
  } else if (address !== undefined) {
    const size = 2 ** (32 - prefix);
    const subnet: Cidr = { text: `${node.address}/${prefix}`, base: address - (address % size), prefix };
    const gw = parseIpv4(gateway);
    if (gw === undefined || !contains(subnet, gw)) problems.push({ key: `${key}.gateway`, message: `${gateway} is not inside ${node.address}/${prefix}` });
  }
}

function checkRaspberryPi(pi: RaspberryPiConfig, problems: ConfigProblem[]): void {
  if (!pi.nodes.some((n) => n.role === 'master')) {
    problems.push({ key: 'raspberryPi.nodes', message: 'has no node with role: master; the cluster needs one' });
  }
  const seen = new Map<string, number>();
  pi.nodes.forEach((node, i) => {
    for (const [field, value] of [['name', node.name], ['address', node.address]] as const) {
      const id = `${field}:${value}`;
      if (seen.has(id)) problems.push({ key: `raspberryPi.nodes[${i}].${field}`, message: `"${value}" is already used by raspberryPi.nodes[${seen.get(id)}]` });
      else seen.set(id, i);
    }
    checkPiNode(pi, node, i, problems);
  });
}

/** Validates parsed YAML, fills defaults, and returns the typed config or throws ConfigError naming each bad key. */
export function validateConfig(raw: unknown, source: string): ClusterConfig {
  // ajv fills defaults in place; work on a copy so callers' objects stay untouched.
  const data: unknown = raw === null || raw === undefined ? {} : structuredClone(raw);
  const validate = schemaValidator();
  if (!validate(data)) throw new ConfigError(source, (validate.errors ?? []).map(describe));
  const config = data as ClusterConfig; // the schema guarantees this shape
  const problems: ConfigProblem[] = [];
  checkNetwork(config, problems);
  checkStream(config, problems);
  checkClouds(config, problems);
  checkRebootWindow(config, problems);
  if (config.raspberryPi) checkRaspberryPi(config.raspberryPi, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}
