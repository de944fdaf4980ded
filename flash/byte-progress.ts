import { SingleBar } from 'cli-progress';
import { formatBytes, formatDuration, formatRate } from './units';

/** Reports one phase (writing, verifying) of a known number of bytes. */
export interface ByteProgress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export interface ByteProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * A bar with bytes, rate and time left on a terminal; on anything else (a log, CI, a pipe) a plain line
 * every `intervalMs`, because a redrawn bar turns into megabytes of carriage returns there.
 */
export function createByteProgress(out: ByteProgressOutput, intervalMs = 5000): ByteProgress {
  return out.isTTY ? new BarProgress(out) : new LineProgress(out, intervalMs);
}

class Rate {
  private readonly started = Date.now();
  constructor(readonly total: number) {}
  text(done: number): { rate: string; eta: string; percent: string } {
    const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3);
    const perSecond = done / seconds;
    return {
      rate: formatRate(perSecond),
      eta: formatDuration(perSecond > 0 ? (this.total - done) / perSecond : Infinity),
      percent: this.total > 0 ? `${Math.floor((done / this.total) * 100)}%` : '100%',
    };
  }
}

class BarProgress implements ByteProgress {
  private bar: SingleBar | undefined;
  private rate = new Rate(0);
  constructor(private readonly out: ByteProgressOutput) {}

  start(label: string, total: number): void {
    this.rate = new Rate(total);
    this.bar = new SingleBar({
      stream: this.out as NodeJS.WritableStream,
      format: `${label.padEnd(9)} |{bar}| {percentage}% {done}/{size} {rate} ETA {left}`,
      hideCursor: true,
      fps: 5,
    });
    this.bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total), rate: '-', left: '?' });
  }

  update(done: number): void {
    const { rate, eta } = this.rate.text(done);
    this.bar?.update(done, { done: formatBytes(done), rate, left: eta });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements ByteProgress {
  private label = '';
  private rate = new Rate(0);
  private lastLine = 0;
  private done = 0;
  constructor(
    private readonly out: ByteProgressOutput,
    private readonly intervalMs: number,
  ) {}

  start(label: string, total: number): void {
    this.label = label;
    this.rate = new Rate(total);
    this.lastLine = Date.now();
    this.done = 0;
  }

  update(done: number): void {
    this.done = done;
    if (Date.now() - this.lastLine < this.intervalMs) return;
    this.lastLine = Date.now();
    this.line();
  }

  stop(): void {
    this.line();
  }

  private line(): void {
    const { rate, eta, percent } = this.rate.text(this.done);
    this.out.write(`${this.label}: ${formatBytes(this.done)} of ${formatBytes(this.rate.total)} (${percent}), ${rate}, ${eta} left\n`);
  }
}
