/** A structured log line as kube/ helpers emit it; the master hands in its pino logger behind this. */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;
