/**
 * The part of the Ignition 3.4.0 config spec lotse uses
 * (https://coreos.github.io/ignition/configuration-v3_4/). Field names match the spec exactly,
 * so a config object serializes to valid Ignition with JSON.stringify.
 */

export const IGNITION_VERSION = '3.4.0';

export interface IgnitionResource {
  /** A data: URL; lotse never fetches remote resources at boot. */
  readonly source: string;
  readonly compression?: 'gzip';
}

export interface IgnitionFile {
  readonly path: string;
  readonly mode: number;
  readonly overwrite: boolean;
  readonly contents: IgnitionResource;
}

export interface IgnitionDirectory {
  readonly path: string;
  readonly mode: number;
}

export interface IgnitionDropin {
  readonly name: string;
  readonly contents: string;
}

export interface IgnitionUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins?: readonly IgnitionDropin[];
}

export interface IgnitionUser {
  readonly name: string;
  readonly sshAuthorizedKeys: readonly string[];
}

export interface IgnitionConfig {
  readonly ignition: { readonly version: typeof IGNITION_VERSION };
  readonly passwd: { readonly users: readonly IgnitionUser[] };
  readonly storage: { readonly files: readonly IgnitionFile[]; readonly directories: readonly IgnitionDirectory[] };
  readonly systemd: { readonly units: readonly IgnitionUnit[] };
  readonly kernelArguments?: { readonly shouldExist: readonly string[]; readonly shouldNotExist: readonly string[] };
}
