import { ConntrackCleaner } from './conntrack-cleaner';
import { renderNftRuleset, type NftRuleset } from './nft-ruleset';
import type { NftRunner } from './nft-runner';
import type { Proxier } from './proxier';
import type { ServicePortEntry } from './service-table';

/**
 * Keeps the nftables table in step with the service table: one atomic transaction per sync, so a
 * half-applied state is never visible, and the table is dropped on stop.
 */
export class KernelProxier implements Proxier {
  readonly mode = 'kernel' as const;
  private previous?: Pick<NftRuleset, 'chains' | 'sets'>;
  private previousEntries: ServicePortEntry[] = [];

  constructor(
    private readonly runner: NftRunner,
    private readonly table = 'lotse',
    private readonly conntrack = new ConntrackCleaner(),
    private readonly localPodSubnet: () => string | undefined = () => undefined,
  ) {}

  async sync(entries: ServicePortEntry[]): Promise<void> {
    const ruleset = renderNftRuleset(entries, { table: this.table, previous: this.previous, fresh: !this.previous, localPodSubnet: this.localPodSubnet() });
    try {
      await this.runner.apply(ruleset.script);
    } catch (err) {
      // The table may have been changed behind our back (nft flush ruleset, a reboot of
      // nftables.service): the next attempt rebuilds it whole instead of diffing against a guess.
      this.previous = undefined;
      throw err;
    }
    this.previous = { chains: ruleset.chains, sets: ruleset.sets };
    // Only after the rules stop choosing them, or a datagram could recreate the entry.
    await this.conntrack.clear(ConntrackCleaner.staleUdpFlows(this.previousEntries, entries));
    this.previousEntries = entries;
  }

  async stop(): Promise<void> {
    this.previous = undefined;
    await this.runner.apply(`add table ip ${this.table}\ndelete table ip ${this.table}\n`);
  }
}
