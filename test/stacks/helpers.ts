import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ClusterConfig } from '../../stacks/config/cluster-config';
import { validateConfig } from '../../stacks/config/validate';

export const REPO = join(__dirname, '..', '..');
export const EXAMPLE_PATH = join(REPO, 'cluster.example.yaml');

type Plain = Record<string, unknown>;

function isObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge where `undefined` in the patch deletes the key; arrays are replaced. */
export function merge(base: Plain, patch: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = isObject(v) && isObject(base[k]) ? merge(base[k] as Plain, v) : v;
  }
  return out;
}

export function exampleRaw(): Plain {
  return parse(readFileSync(EXAMPLE_PATH, 'utf8')) as Plain;
}

/** The committed example with changes applied, validated as cluster.yaml would be. */
export function configWith(patch: Plain = {}): ClusterConfig {
  return validateConfig(merge(exampleRaw(), patch), 'test cluster.yaml');
}

/** Every `user-data`, `user_data`, `cloud-init` or local_file Ignition string in a synthesized stack. */
export function ignitionsIn(stackJson: string): Array<{ where: string; text: string }> {
  const found: Array<{ where: string; text: string }> = [];
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      if (value.startsWith('{"ignition":')) found.push({ where, text: value });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  walk(JSON.parse(stackJson), '');
  return found;
}

/**
 * Runs Debian's ignition-validate (Ignition 2.14, which knows spec 3.4.0 as 3.4.0-experimental)
 * on a copy carrying that version string. Returns its complaints, empty when valid.
 */
export function ignitionValidate(text: string): string {
  const config = JSON.parse(text) as { ignition: { version: string } };
  if (config.ignition.version !== '3.4.0') return `unexpected version ${config.ignition.version}`;
  config.ignition.version = '3.4.0-experimental';
  const dir = mkdtempSync(join(tmpdir(), 'lotse-ign-'));
  try {
    const file = join(dir, 'config.ign');
    writeFileSync(file, JSON.stringify(config));
    try {
      return execFileSync('ignition-validate', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Percent-decodes Ignition data URLs so nothing hides from the secret scan in encoded form. */
export function decoded(text: string): string {
  return text.replace(/data:,([^"]*)/g, (_, body: string) => decodeURIComponent(body));
}

const SECRET_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['PEM certificate', /-----BEGIN CERTIFICATE-----/],
  ['OpenSSH private key', /-----BEGIN OPENSSH PRIVATE KEY-----/],
  ['GCP service account key', /"private_key(_id)?"\s*:/],
  ['DigitalOcean token', /\bdo[opr]_v1_[a-f0-9]{64}\b/],
  ['JWT / bearer token', /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./],
  ['AWS-style access key', /\b(AKIA|SCW)[A-Z0-9]{16,}\b/],
  ['credential assignment', /\b(token|password|secret_key|access_key|client_secret)\s*[=:]\s*["']?[A-Za-z0-9+/_-]{16,}/i],
];

/** Names of the secret-looking patterns found in `text`. */
export function secretFindings(text: string): string[] {
  const plain = decoded(text);
  return SECRET_PATTERNS.filter(([, re]) => re.test(plain)).map(([name]) => name);
}
