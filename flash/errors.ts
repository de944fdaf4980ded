/**
 * Why a flash stopped. `refused` means nothing was written (a guard or a check said no);
 * `failed` means something went wrong while writing or verifying, so the device may be incomplete.
 */
export type FlashErrorKind = 'refused' | 'failed';

export class FlashError extends Error {
  constructor(
    readonly kind: FlashErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FlashError';
  }
}

export function refuse(message: string): FlashError {
  return new FlashError('refused', message);
}

export function fail(message: string): FlashError {
  return new FlashError('failed', message);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
