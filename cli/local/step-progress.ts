/** One step of `lotse up`/`down` as the user sees it: "✓ master ready (0.9 s)". */
export interface StepProgress {
  step<T>(label: string, work: () => Promise<T>, done?: (result: T) => string): Promise<T>;
  info(line: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Step-by-step progress on stream: a spinner that turns into ✓/✗ on a TTY, plain lines otherwise
 * (logs and CI keep one line per finished step).
 */
export function createStepProgress(stream: NodeJS.WriteStream = process.stdout): StepProgress {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  // A reader that went away (lotse up | head) must not kill `up` halfway through starting a cluster.
  stream.on('error', () => undefined);
  return {
    info: (line) => void stream.write(`${line}\n`),
    step: async (label, work, done) => {
      const started = Date.now();
      let frame = 0;
      const timer = tty ? setInterval(() => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} (${elapsed(started)})\x1b[K`), 100) : undefined;
      try {
        const result = await work();
        clear(stream, timer);
        stream.write(`✓ ${done ? done(result) : label} (${elapsed(started)})\n`);
        return result;
      } catch (err) {
        clear(stream, timer);
        stream.write(`✗ ${label} (${elapsed(started)})\n`);
        throw err;
      }
    },
  };
}

function clear(stream: NodeJS.WriteStream, timer: NodeJS.Timeout | undefined): void {
  if (!timer) return;
  clearInterval(timer);
  stream.write('\r\x1b[K');
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
