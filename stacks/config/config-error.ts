/** A cluster.yaml problem, raised before any Terraform runs. Each line names the key at fault. */
export interface ConfigProblem {
  /** Dotted path, e.g. `network.podCidr` or `raspberryPi.nodes[1].role`. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${source} is not valid:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
