/**
 * JSON Schema of cluster.yaml. Defaults live here (ajv fills them in), so this file and
 * cluster.example.yaml are the two places a reader learns what a key does.
 * `additionalProperties: false` everywhere: a typo is an error, not a silently ignored key.
 */

const name = { type: 'string', pattern: '^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$' } as const;
const count = { type: 'integer', minimum: 0, maximum: 100 } as const;
const cidr = { type: 'string', minLength: 9 } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const ipv4 = { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' } as const;
const sshKey = {
  type: 'string',
  pattern: '^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/=]+( .*)?$',
} as const;

const ingressRule = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'protocol', 'ports', 'sources'],
  properties: {
    name,
    protocol: { enum: ['tcp', 'udp'] },
    ports: { type: 'string', pattern: '^\\d{1,5}(-\\d{1,5})?$' },
    sources: { type: 'array', minItems: 1, items: cidr },
    to: { enum: ['all', 'masters', 'workers'], default: 'all' },
  },
} as const;

const gce = {
  type: 'object',
  additionalProperties: false,
  required: ['project'],
  properties: {
    project: nonEmpty,
    region: { ...nonEmpty, default: 'europe-west1' },
    zone: { ...nonEmpty, default: 'europe-west1-b' },
    masters: { ...count, default: 1 },
    workers: { ...count, default: 2 },
    masterType: { ...nonEmpty, default: 'e2-medium' },
    workerType: { ...nonEmpty, default: 'e2-medium' },
    diskSizeGb: { type: 'integer', minimum: 10, default: 30 },
    credentialsFile: nonEmpty,
  },
} as const;

const digitalocean = {
  type: 'object',
  additionalProperties: false,
  properties: {
    region: { ...nonEmpty, default: 'fra1' },
    masters: { ...count, default: 1 },
    workers: { ...count, default: 2 },
    masterSize: { ...nonEmpty, default: 's-2vcpu-4gb' },
    workerSize: { ...nonEmpty, default: 's-2vcpu-2gb' },
    fcosVersion: { type: 'string', pattern: '^\\d+\\.\\d{8}\\.\\d+\\.\\d+$', default: '42.20250929.3.0' },
    imageUrl: { type: 'string', pattern: '^https://' },
  },
} as const;

const scaleway = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zone: { ...nonEmpty, default: 'fr-par-1' },
    projectId: nonEmpty,
    masters: { ...count, default: 1 },
    workers: { ...count, default: 2 },
    masterType: { ...nonEmpty, default: 'DEV1-M' },
    workerType: { ...nonEmpty, default: 'DEV1-S' },
    diskSizeGb: { type: 'integer', minimum: 10, default: 20 },
    image: nonEmpty,
    imageObject: {
      type: 'object',
      additionalProperties: false,
      required: ['bucket', 'key'],
      properties: { bucket: nonEmpty, key: nonEmpty },
    },
  },
} as const;

const piNode = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'address', 'role'],
  properties: {
    name,
    address: ipv4,
    role: { enum: ['master', 'worker'] },
    interface: nonEmpty,
    prefixLength: { type: 'integer', minimum: 1, maximum: 32 },
    gateway: ipv4,
    dns: { type: 'array', items: ipv4 },
  },
} as const;

const raspberryPi = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    store: { enum: ['etcd', 'sqlite'], default: 'sqlite' },
    outputDir: { ...nonEmpty, default: 'raspberry-pi' },
    network: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        interface: nonEmpty,
        prefixLength: { type: 'integer', minimum: 1, maximum: 32, default: 24 },
        gateway: ipv4,
        dns: { type: 'array', items: ipv4, default: [] },
      },
    },
    nodes: { type: 'array', items: piNode },
  },
} as const;

export const clusterSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sshAuthorizedKeys'],
  properties: {
    name,
    os: { enum: ['fedora-coreos', 'flatcar'], default: 'fedora-coreos' },
    stream: { ...nonEmpty, default: 'stable' },
    sshAuthorizedKeys: { type: 'array', minItems: 1, items: sshKey },
    adminCidrs: { type: 'array', items: cidr, default: [] },
    store: { enum: ['etcd', 'sqlite'], default: 'etcd' },
    network: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        podCidr: { ...cidr, default: '10.244.0.0/16' },
        serviceCidr: { ...cidr, default: '10.96.0.0/12' },
        nodeCidr: { ...cidr, default: '10.240.0.0/24' },
        dnsAddress: { ...ipv4, default: '169.254.20.10' },
        clusterDomain: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253, default: 'cluster.local' },
      },
    },
    images: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        flannel: { ...nonEmpty, default: 'docker.io/flannel/flannel:v0.26.7' },
        etcd: { ...nonEmpty, default: 'quay.io/coreos/etcd:v3.5.21' },
      },
    },
    firewall: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        extraIngress: { type: 'array', items: ingressRule, default: [] },
        // Who reaches the Ingresses (HTTP 80, HTTPS 443 on the workers): the world unless narrowed; [] closes them.
        ingressSources: { type: 'array', items: cidr, default: ['0.0.0.0/0'] },
      },
    },
    updates: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        rebootWindow: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { enum: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] }, default: ['Sun'] },
            start: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '04:00' },
            lengthMinutes: { type: 'integer', minimum: 15, maximum: 1440, default: 60 },
          },
        },
      },
    },
    bootstrap: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        command: { ...nonEmpty, default: 'lotse' },
        identityFile: nonEmpty,
        nodeRegistry: { type: 'string', pattern: '^https?://', maxLength: 2048 },
      },
    },
    gce,
    digitalocean,
    scaleway,
    raspberryPi,
  },
} as const;
