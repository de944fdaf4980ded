/** A failed API call, rendered to the client as a `kind: Status` object. */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number },
  ) {
    // A 4xx is an answer, never logged with a stack; capturing one was 2.4 % of the master's
    // thread at 5,000 nodes, where most 4xx are refusals (429) to an overloaded master.
    const stackFrames = Error.stackTraceLimit;
    if (code < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackFrames;
    this.name = 'HttpError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

type Target = { kind: string; group: string; name?: string; plural: string };

const qualified = (t: Target): string => (t.group ? `${t.plural}.${t.group}` : t.plural);

export const errors = {
  notFound: (t: Target, name: string) =>
    new HttpError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural }),
  alreadyExists: (t: Target, name: string) =>
    new HttpError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group, kind: t.plural }),
  conflict: (t: Target, name: string) =>
    new HttpError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: t.group, kind: t.plural },
    ),
  invalid: (t: Target, name: string, causes: StatusCause[]) =>
    new HttpError(
      422,
      'Invalid',
      `${t.kind} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`,
      { name, group: t.group, kind: t.kind, causes },
    ),
  badRequest: (message: string) => new HttpError(400, 'BadRequest', message),
  unauthorized: () => new HttpError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (user: string, verb: string, what: string, why = '') =>
    new HttpError(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} ${what}${why ? `: ${why}` : ''}`),
  gone: (message: string) => new HttpError(410, 'Expired', message),
  methodNotAllowed: (message: string) => new HttpError(405, 'MethodNotAllowed', message),
  tooLarge: (limit: number) => new HttpError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`),
  tooLargeRequest: (message: string) => new HttpError(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`),
  unsupportedMediaType: (type: string) => new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got "${type}")`),
  notAcceptable: (type: string) => new HttpError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml (got "${type}")`),
  internal: (message: string) => new HttpError(500, 'InternalError', `Internal error occurred: ${message}`),
  tooManyRequests: (message: string, retryAfterSeconds: number) => new HttpError(429, 'TooManyRequests', message, { retryAfterSeconds }),
  unavailable: (message: string) => new HttpError(503, 'ServiceUnavailable', message),
  timeout: (message: string) => new HttpError(504, 'Timeout', message, { retryAfterSeconds: 1 }),
};
