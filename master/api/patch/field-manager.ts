import { errors } from '../status';

/** Kubernetes' limit on a field manager's name. */
const maxLength = 128;

/**
 * The manager a write is recorded for: the fieldManager query parameter, else (as Kubernetes
 * does) the User-Agent up to its first '/', printable characters only, so that plain kubectl
 * writes show up as "kubectl".
 */
export function fieldManagerOf(query: URLSearchParams, userAgent: string | undefined): string {
  const given = query.get('fieldManager');
  if (given !== null && given !== '') {
    if (given.length > maxLength) throw errors.badRequest(`fieldManager: Too long: may not be longer than ${maxLength}`);
    return given;
  }
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]) {
    if (!/\p{L}|\p{M}|\p{N}|\p{P}|\p{S}|\p{Zs}/u.test(ch)) continue;
    if (out.length + ch.length > maxLength) break;
    out += ch;
  }
  return out;
}

/** force=true, accepted only where it means something (an apply). */
export function forceOf(query: URLSearchParams): boolean {
  const v = query.get('force');
  if (v === null || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  throw errors.badRequest(`force must be true or false, not "${v}"`);
}
