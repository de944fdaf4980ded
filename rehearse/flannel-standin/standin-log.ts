/** One line per event on stderr, as flanneld logs (the service manager keeps them). */
export type StandinLog = (message: string) => void;

export const stderrLog: StandinLog = (message) => void process.stderr.write(`${new Date().toISOString()} flanneld-standin: ${message}\n`);
