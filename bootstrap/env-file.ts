/**
 * The one format every reader of lotse's env files agrees on: `KEY=value` lines, no quotes.
 * `podman run --env-file` and `docker run --env-file` take everything after `=` literally (quotes
 * included), systemd's EnvironmentFile= strips quotes and treats backslashes as escapes, and a
 * shell would split on spaces. Values that avoid quotes, backslashes, `$`, newlines and
 * surrounding blanks mean the same to all of them; anything else is refused here rather than
 * read differently on a host.
 */
export function renderEnvFile(vars: Readonly<Record<string, string>>): string {
  const lines = Object.entries(vars).map(([key, value]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`env file key "${key}" must be upper-case letters, digits and underscores`);
    const bad = /["'\\$`\r\n\0]/.exec(value);
    if (bad) throw new Error(`env file value of ${key} contains ${JSON.stringify(bad[0])}, which podman, docker and systemd read differently; change the setting that produced it`);
    if (value !== value.trim()) throw new Error(`env file value of ${key} starts or ends with a blank, which systemd drops and podman keeps; remove it`);
    return `${key}=${value}`;
  });
  return `# Written by lotse bootstrap; edits are replaced on the next run.\n${lines.join('\n')}\n`;
}

/**
 * Shell that exports every `KEY=value` line of an env file as it is, the way podman and systemd
 * read it (sourcing it with `.` would split values at blanks). Defines `load_env FILE`.
 */
export const LOAD_ENV_FUNCTION = `load_env() {
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in ''|'#'*) ;; *=*) export "$line" ;; esac
  done < "$1"
}`;
