import type { ServicePortEntry } from './service-table';

/** A way of steering service traffic to backends: kernel rules or userspace listeners. */
export interface Proxier {
  readonly mode: 'kernel' | 'userspace';
  /** Makes the data path match the table; called with the full table after every change. */
  sync(entries: ServicePortEntry[]): Promise<void>;
  /** Removes every rule or listener this proxier made. */
  stop(): Promise<void>;
}
