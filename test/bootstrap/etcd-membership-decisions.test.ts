import { describeStranger, joinAction, joinInitialCluster, joinOrder, keptInitialCluster, MembershipConflict, staleDataCheck, strangers } from '../../bootstrap/etcd-membership';
import type { EtcdMember } from '../../bootstrap/etcd-members';
import { etcdEnvFile, formation } from '../../bootstrap/host-files';
import type { InventoryHost } from '../../bootstrap/inventory';

const master = (name: string, n: number): InventoryHost => ({ name, address: `192.0.2.${n}`, privateAddress: `10.0.0.${n}`, port: 22, user: 'root', role: 'master' });
const [m1, m2, m3] = [master('m1', 1), master('m2', 2), master('m3', 3)];
const masters = [m1, m2, m3];
const peer = (n: number): string => `https://10.0.0.${n}:2380`;
const running = (name: string, n: number, id = `${n}00`): EtcdMember => ({ id, name, peerUrls: [peer(n)], clientUrls: [`https://10.0.0.${n}:2379`] });
const unstarted = (n: number, id = `${n}99`): EtcdMember => ({ id, name: '', peerUrls: [peer(n)], clientUrls: [] });

/** The membership decisions the bootstrap takes from etcd's member list, without machines. */
describe('etcd membership decisions', () => {
  test('a new machine in a running cluster is added; nothing is removed', () => {
    expect(joinAction([running('m1', 1)], m2, masters)).toEqual({ kind: 'add', stale: [] });
  });

  test("a replaced machine (same name and address, no data) gets the dead machine's member removed first", () => {
    const dead = running('m3', 3);
    expect(joinAction([running('m1', 1), running('m2', 2), dead], m3, masters)).toEqual({ kind: 'add', stale: [dead] });
  });

  test('a member an interrupted run added is started, not added twice', () => {
    const pending = unstarted(2);
    expect(joinAction([running('m1', 1), pending], m2, masters)).toEqual({ kind: 'resume', pending });
  });

  test('a member of the same name at another address is left to the user, with the command', () => {
    const elsewhere = { ...running('m3', 9), peerUrls: [peer(9)] };
    expect(() => joinAction([running('m1', 1), running('m2', 2), elsewhere], m3, masters)).toThrow(MembershipConflict);
    expect(() => joinAction([running('m1', 1), running('m2', 2), elsewhere], m3, masters)).toThrow(/member named m3 \(384\) at https:\/\/10\.0\.0\.9:2380, but the inventory puts m3 at https:\/\/10\.0\.0\.3:2380; .*etcdctl .*member remove 384\)/);
  });

  test('no second member is added while another one waits to start', () => {
    expect(() => joinAction([running('m1', 1), unstarted(2)], m3, masters)).toThrow(/must start before m3 is added \(one new member at a time\)/);
    expect(() => joinAction([running('m1', 1), unstarted(7, '255')], m3, masters)).toThrow(/never started and is no master of the inventory; .*member remove ff/);
  });

  test('joiners an interrupted run already added go first', () => {
    expect(joinOrder([m2, m3], [running('m1', 1), unstarted(3)]).map((h) => h.name)).toEqual(['m3', 'm2']);
  });

  test('ETCD_INITIAL_CLUSTER names exactly the members etcd has, unstarted ones by their inventory name', () => {
    expect(joinInitialCluster([running('m1', 1), running('m2', 2), unstarted(3)], m3, masters)).toEqual({ state: 'existing', members: `m1=${peer(1)},m2=${peer(2)},m3=${peer(3)}` });
    expect(joinInitialCluster([running('m1', 1), unstarted(2), unstarted(3)], m3, masters).members).toBe(`m1=${peer(1)},m2=${peer(2)},m3=${peer(3)}`);
  });

  test('a member keeps the initial settings of its env file; a brand-new cluster is formed by every master', () => {
    const formed = String(etcdEnvFile('c', m1, formation(masters)).content);
    expect(formed).toMatch(/^ETCD_INITIAL_CLUSTER_STATE=new$/m);
    expect(keptInitialCluster(formed)).toEqual({ state: 'new', members: `m1=${peer(1)},m2=${peer(2)},m3=${peer(3)}` });
    const joined = String(etcdEnvFile('c', m3, { state: 'existing', members: `m1=${peer(1)},m3=${peer(3)}` }).content);
    expect(keptInitialCluster(joined)).toEqual({ state: 'existing', members: `m1=${peer(1)},m3=${peer(3)}` });
    expect(keptInitialCluster('')).toBeUndefined();
  });

  test('members no master of the inventory accounts for are reported with the command, never removed', () => {
    const gone = running('m4', 4, '4096');
    const found = strangers([running('m1', 1), running('m2', 2), gone], masters);
    expect(found).toEqual([gone]);
    expect(describeStranger(gone)).toBe(
      'etcd member m4 (1000, https://10.0.0.4:2380) is no master of the inventory; it still counts for quorum. If its machine is gone for good, remove it on a master: ' +
        'ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/lotse/pki/etcd-ca.crt --cert /etc/lotse/pki/etcd-client.crt --key /etc/lotse/pki/etcd-client.key member remove 1000',
    );
  });

  test('a master holding data of a member the cluster removed is stopped with what to do, not started or wiped', () => {
    expect(() => staleDataCheck(m2, [running('m1', 1), running('m2', 2)], ['/var/lib/etcd/member'])).not.toThrow();
    expect(() => staleDataCheck(m2, [running('m1', 1), unstarted(2)], ['/var/lib/etcd/member'])).not.toThrow();
    expect(() => staleDataCheck(m2, [running('m1', 1)], ['/var/lib/etcd/member'])).toThrow(/^m2 has etcd data but is no member of the running cluster .*move its data dir away on m2 \(\/var\/lib\/etcd\/member\)/);
  });
});
