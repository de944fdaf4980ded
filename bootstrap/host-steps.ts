/** One step on one host (or on the cluster, host '*'), as it starts and ends. */
export interface StepEvent {
  host: string;
  step: string;
  /** `waiting`: the step is still running and says why it is taking long (a machine still booting). */
  state: 'start' | 'waiting' | 'done' | 'unchanged' | 'skipped' | 'failed';
  /** Set when the step ended. */
  ms?: number;
  detail?: string;
}

/** Receives every step event; the run waits for it, so a test can act between two steps. */
export type StepListener = (event: StepEvent) => void | Promise<void>;

const LABEL: Record<StepEvent['state'], string> = { start: '...', waiting: 'waiting', done: 'done', unchanged: 'no change', skipped: 'skipped', failed: 'FAILED' };

/** One line per finished step: host, step, outcome, time, detail. */
export function printStep(out: NodeJS.WritableStream): StepListener {
  return (e) => {
    if (e.state === 'start') return;
    const time = e.ms === undefined ? '' : `${(e.ms / 1000).toFixed(1)}s`;
    out.write(`  ${e.host.padEnd(14)} ${e.step.padEnd(16)} ${LABEL[e.state].padEnd(9)} ${time.padStart(6)}${e.detail ? `  ${e.detail}` : ''}\n`);
  };
}

/** What a step reports back: whether it changed anything, and a short note. */
export interface StepResult {
  changed: boolean | 'skipped';
  detail?: string;
}

/** A failed step: the host, the step, why, and the remote output's last lines. */
export class StepError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly reason: string,
    readonly outputTail = '',
  ) {
    super(`${host}: step "${step}" failed: ${reason}${outputTail ? `\n    remote output (last lines):\n${outputTail.replace(/^/gm, '      | ')}` : ''}`);
  }
}

/** Runs one step, reporting start and end with its time; failures become StepErrors. */
export async function runStep(listener: StepListener, host: string, step: string, body: () => Promise<StepResult>): Promise<void> {
  await listener({ host, step, state: 'start' });
  const started = Date.now();
  try {
    const r = await body();
    await listener({ host, step, state: r.changed === 'skipped' ? 'skipped' : r.changed ? 'done' : 'unchanged', ms: Date.now() - started, detail: r.detail });
  } catch (err) {
    const e = err instanceof StepError ? err : new StepError(host, step, (err as Error).message, (err as { outputTail?: string }).outputTail ?? '');
    await listener({ host, step, state: 'failed', ms: Date.now() - started, detail: e.reason });
    throw e;
  }
}
