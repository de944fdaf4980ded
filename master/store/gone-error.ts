import { StoreError } from './store';

/** The error both backends give a watch whose starting revision was compacted away (HTTP 410). */
export function goneError(fromRevision: number, compactedRevision: number | undefined): StoreError {
  const upTo = compactedRevision === undefined ? '' : ` up to ${compactedRevision}`;
  return new StoreError(
    'Gone',
    `cannot watch from revision ${fromRevision}: history${upTo} was compacted; list again and watch from the list's revision`,
  );
}
