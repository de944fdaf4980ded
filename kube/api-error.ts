/** A Kubernetes `Status` failure as returned by the API server, with its HTTP code and reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static isNotFound(err: unknown): boolean {
    return err instanceof ApiError && err.code === 404;
  }

  static isConflict(err: unknown): boolean {
    return err instanceof ApiError && err.code === 409 && err.reason === 'Conflict';
  }

  static isAlreadyExists(err: unknown): boolean {
    return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
  }

  static isGone(err: unknown): boolean {
    return err instanceof ApiError && err.code === 410;
  }
}
