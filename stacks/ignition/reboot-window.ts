import type { OperatingSystem, RebootWindow } from '../config/cluster-config';

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** Zincati's drop-in for FCOS: finalize (reboot into) a staged update only inside the weekly window, in UTC. */
export const ZINCATI_DROPIN = '/etc/zincati/config.d/55-lotse-reboot-window.toml';
/** Flatcar's update configuration, read by update-engine and locksmithd. */
export const FLATCAR_UPDATE_CONF = '/etc/flatcar/update.conf';

function zincatiConfig(window: RebootWindow): string {
  return [
    '# Written by lotse from cluster.yaml updates.rebootWindow: OS updates reboot only in this window (UTC).',
    '[updates]',
    'strategy = "periodic"',
    '',
    '[[updates.periodic.window]]',
    `days = [ ${window.days.map((d) => `"${d}"`).join(', ')} ]`,
    `start_time = "${window.start}"`,
    `length_minutes = ${window.lengthMinutes}`,
    '',
  ].join('\n');
}

/**
 * locksmithd takes one window start: a weekday and a time, or a time alone for every day, which
 * is why cluster.yaml allows Flatcar one day or all seven. `reboot` is the strategy without an
 * etcd lock: lotse's etcd is not locksmith's.
 */
function flatcarUpdateConf(window: RebootWindow): string {
  const start = window.days.length === WEEKDAYS.length ? window.start : `${window.days[0]} ${window.start}`;
  return [
    '# Written by lotse from cluster.yaml updates.rebootWindow: OS updates reboot only in this window (UTC).',
    'REBOOT_STRATEGY=reboot',
    `LOCKSMITHD_REBOOT_WINDOW_START=${start}`,
    `LOCKSMITHD_REBOOT_WINDOW_LENGTH=${window.lengthMinutes}m`,
    '',
  ].join('\n');
}

/** The file that bounds the OS's own update reboots to the window, for the OS at hand. */
export function rebootWindowFile(os: OperatingSystem, window: RebootWindow): { path: string; contents: string } {
  return os === 'fedora-coreos' ? { path: ZINCATI_DROPIN, contents: zincatiConfig(window) } : { path: FLATCAR_UPDATE_CONF, contents: flatcarUpdateConf(window) };
}
