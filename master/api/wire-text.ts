import type { StoredText } from '../store/store';
import { apiVersionOf, type ResourceInfo } from './resources';

/**
 * An object already encoded as the JSON its answer carries, written by a list answer as it is
 * (reply-writer.ts). Made from the store's text without decoding it (wireText), it saves a list
 * read from the store the JSON.parse and the JSON.stringify of every object: most of what a large
 * list costs the master's one thread.
 */
export class WireText {
  constructor(readonly text: string) {}

  /** The object, for an answer encoded whole with JSON.stringify (a short list) rather than entry by entry. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * obj with apiVersion, kind and metadata as its first keys: the order the registry stores every
 * object in, and what wireText needs the stored text to begin with. Clients send them in any
 * order (client-go: kind first); key order means nothing to JSON readers.
 */
export function inStoredOrder<T extends Record<string, unknown>>(obj: T): T {
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, ...obj };
}

/**
 * What the stored text of an object of r begins with when it is in stored order and carries r's
 * own apiVersion and kind; undefined for a resource stored in another version than it is served
 * in (its objects are converted, so decoded).
 */
export function storedTextHead(r: ResourceInfo): string | undefined {
  if (r.conversion) return undefined;
  return `{"apiVersion":${JSON.stringify(apiVersionOf(r))},"kind":${JSON.stringify(r.kind)},"metadata":{`;
}

/**
 * The wire form of a stored object (what withVersion makes of it: r's apiVersion and kind, and
 * the revision as metadata.resourceVersion) made from its text, or undefined when it has to be
 * decoded for that: the text does not begin with `head` (storedTextHead), or it holds a
 * resourceVersion somewhere already (the registry never stores one; anything else written so
 * would get a second key, so it is decoded instead). The resourceVersion goes first in metadata,
 * where withVersion puts it last; JSON readers do not see the difference.
 */
export function wireText(head: string | undefined, st: StoredText): WireText | undefined {
  if (head === undefined || !st.text.startsWith(head) || st.text.includes('"resourceVersion":', head.length)) return undefined;
  const rest = st.text.slice(head.length);
  return new WireText(`${head}"resourceVersion":"${st.modRevision}"${rest.startsWith('}') ? '' : ','}${rest}`);
}
