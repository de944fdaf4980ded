import {
  IGNITION_VERSION,
  type IgnitionConfig,
  type IgnitionDirectory,
  type IgnitionFile,
  type IgnitionUnit,
  type IgnitionUser,
} from './spec';

/** GCE refuses instance metadata values above 256 KiB; user-data is one such value. */
export const IGNITION_SIZE_LIMIT = 256 * 1024;

export interface FileOptions {
  /** Octal file mode; 0644 unless the file is private. */
  readonly mode?: number;
}

/** RFC 2397 data URL; percent-encoding keeps the config readable in `terraform show`. */
export function dataUrl(text: string): string {
  return `data:,${encodeURIComponent(text)}`;
}

/**
 * Collects the pieces of one machine's Ignition config. Later additions for the same path or
 * unit name replace earlier ones, so a target can override a shared default without copying it.
 */
export class IgnitionBuilder {
  private readonly users = new Map<string, IgnitionUser>();
  private readonly files = new Map<string, IgnitionFile>();
  private readonly directories = new Map<string, IgnitionDirectory>();
  private readonly units = new Map<string, IgnitionUnit>();
  private readonly kernelArgs = { shouldExist: new Set<string>(), shouldNotExist: new Set<string>() };

  user(name: string, sshAuthorizedKeys: readonly string[]): this {
    this.users.set(name, { name, sshAuthorizedKeys: [...sshAuthorizedKeys] });
    return this;
  }

  file(path: string, contents: string, options: FileOptions = {}): this {
    this.files.set(path, { path, mode: options.mode ?? 0o644, overwrite: true, contents: { source: dataUrl(contents) } });
    return this;
  }

  directory(path: string, mode = 0o755): this {
    this.directories.set(path, { path, mode });
    return this;
  }

  unit(unit: IgnitionUnit): this {
    this.units.set(unit.name, unit);
    return this;
  }

  kernelArgument(argument: string, present = true): this {
    (present ? this.kernelArgs.shouldExist : this.kernelArgs.shouldNotExist).add(argument);
    return this;
  }

  build(): IgnitionConfig {
    const byKey = <T>(items: Iterable<T>, key: (t: T) => string): T[] => [...items].sort((a, b) => key(a).localeCompare(key(b)));
    const hasKernelArgs = this.kernelArgs.shouldExist.size + this.kernelArgs.shouldNotExist.size > 0;
    return {
      ignition: { version: IGNITION_VERSION },
      passwd: { users: byKey(this.users.values(), (u) => u.name) },
      storage: {
        files: byKey(this.files.values(), (f) => f.path),
        directories: byKey(this.directories.values(), (d) => d.path),
      },
      systemd: { units: byKey(this.units.values(), (u) => u.name) },
      ...(hasKernelArgs
        ? { kernelArguments: { shouldExist: [...this.kernelArgs.shouldExist].sort(), shouldNotExist: [...this.kernelArgs.shouldNotExist].sort() } }
        : {}),
    };
  }

  /** The config as the machine reads it; throws if it would not fit in instance metadata. */
  render(): string {
    const text = JSON.stringify(this.build());
    // The config travels inside Terraform strings, where these start an interpolation or directive.
    const template = /[$%]\{/.exec(text);
    if (template) {
      throw new Error(`Ignition config contains "${template[0]}" near "${text.slice(Math.max(0, template.index - 40), template.index + 20)}", which Terraform would evaluate; write systemd variables as $NAME`);
    }
    const size = Buffer.byteLength(text);
    if (size > IGNITION_SIZE_LIMIT) {
      throw new Error(`Ignition config is ${size} bytes, above the ${IGNITION_SIZE_LIMIT}-byte metadata limit; move large files to the bootstrap`);
    }
    return text;
  }
}
