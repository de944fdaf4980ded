import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { RuntimeError, type PullPolicy } from './container-runtime';
import { PAUSE_IMAGE, pauseBinary, singleFileTar } from './pause-image';

/** Images on the engine: present-or-pull by pull policy, and the pause image sandboxes run. */
export class EngineImages {
  private pauseReady?: Promise<void>;

  constructor(
    private readonly docker: Docker,
    /** Image of the infra container; built locally when it is the default and missing. */
    readonly pauseImage: string,
    /** Give up on a pull after this long: a wedged registry must not stall a pod forever. */
    private readonly pullTimeoutMs: number,
  ) {}

  async ensure(image: string, policy: PullPolicy): Promise<string> {
    const present = await this.imageId(image);
    if (present && policy !== 'Always') return present;
    if (!present && policy === 'Never') {
      throw new RuntimeError('ErrImageNeverPull', `image "${image}" is not present on the node and imagePullPolicy is Never`);
    }
    try {
      await this.pull(image);
    } catch (err) {
      if (present) return present; // Always: keep what we have when the registry is unreachable
      throw new RuntimeError('ErrImagePull', `failed to pull image "${image}": ${(err as Error).message}`);
    }
    const id = await this.imageId(image);
    if (!id) throw new RuntimeError('ErrImagePull', `image "${image}" was pulled but cannot be found afterwards`);
    return id;
  }

  /** The pause image, imported from the binary lotse carries when it is the default and missing. */
  ensurePause(): Promise<void> {
    if (!this.pauseReady) {
      this.pauseReady = (async () => {
        if (await this.imageId(this.pauseImage)) return;
        if (this.pauseImage !== PAUSE_IMAGE) return void (await this.ensure(this.pauseImage, 'IfNotPresent'));
        const tar = singleFileTar('pause', pauseBinary());
        const stream = await this.docker.importImage(Readable.from([tar]) as unknown as string, { repo: PAUSE_IMAGE }); // podman ignores `tag`; both accept repo:tag
        await new Promise<void>((resolve, reject) =>
          this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
        );
        if (!(await this.imageId(this.pauseImage))) throw new Error(`importing ${PAUSE_IMAGE} did not produce the image`);
      })().catch((err: Error) => {
        this.pauseReady = undefined;
        throw new RuntimeError('CreatePodSandboxError', `cannot prepare the pause image ${this.pauseImage}: ${err.message}`);
      });
    }
    return this.pauseReady;
  }

  private async imageId(image: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return info.Id.startsWith('sha256:') ? info.Id : `sha256:${info.Id}`;
    } catch {
      return undefined;
    }
  }

  private pull(image: string): Promise<void> {
    const timeoutMs = this.pullTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      this.docker.pull(image, {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
        if (err || !stream) return done(err ?? new Error('no pull stream'));
        // The engine answers 200 and reports failures inside the progress stream.
        this.docker.modem.followProgress(stream, (e: Error | null, events: Array<{ error?: string }>) => {
          const failed = events?.find((ev) => ev.error);
          done(e ?? (failed ? new Error(failed.error) : undefined));
        });
      });
    });
  }
}
