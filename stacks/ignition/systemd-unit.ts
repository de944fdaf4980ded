/** A systemd unit file as ordered sections of key/value lines (keys may repeat, e.g. ExecStartPre). */
export type UnitSections = Record<string, ReadonlyArray<readonly [string, string]>>;

export function renderUnit(sections: UnitSections): string {
  return Object.entries(sections)
    .map(([section, lines]) => [`[${section}]`, ...lines.map(([k, v]) => `${k}=${v}`)].join('\n'))
    .join('\n\n')
    .concat('\n');
}
