import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ClusterConfig } from './cluster-config';
import { ConfigError } from './config-error';
import { validateConfig } from './validate';

export interface LoadedConfig {
  readonly config: ClusterConfig;
  /** The file it came from. */
  readonly path: string;
  /** True when no cluster.yaml exists and the committed example stands in (synth-only demo). */
  readonly isExample: boolean;
}

const EXAMPLE = 'cluster.example.yaml';

function findExample(): string {
  // Works from the sources (stacks/config) and from the compiled app (dist/stacks/config).
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, EXAMPLE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`no cluster.yaml in ${process.cwd()}, no LOTSE_CONFIG, and ${EXAMPLE} was not found next to the lotse package; create cluster.yaml (copy ${EXAMPLE})`);
}

/** LOTSE_CONFIG, else ./cluster.yaml, else the committed example. */
export function resolveConfigPath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): { path: string; isExample: boolean } {
  if (env.LOTSE_CONFIG) {
    const path = resolve(cwd, env.LOTSE_CONFIG);
    if (!existsSync(path)) throw new Error(`LOTSE_CONFIG names ${path}, which does not exist; fix the variable or unset it to use ./cluster.yaml`);
    return { path, isExample: false };
  }
  const local = resolve(cwd, 'cluster.yaml');
  if (existsSync(local)) return { path: local, isExample: false };
  const inCwd = resolve(cwd, EXAMPLE);
  return { path: existsSync(inCwd) ? inCwd : findExample(), isExample: true };
}

/** Parses YAML text and validates it; `source` names the file in error messages. */
export function parseConfig(text: string, source: string): ClusterConfig {
  let raw: unknown;
  try {
    raw = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    throw new ConfigError(source, [{ key: '(yaml)', message: (error as Error).message }]);
  }
  return validateConfig(raw, source);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LoadedConfig {
  const { path, isExample } = resolveConfigPath(env, cwd);
  return { config: parseConfig(readFileSync(path, 'utf8'), path), path, isExample };
}
