/**
 * Preloaded into a `lotse master` process by a benchmark (`node --require` this file, compiled in
 * dist/bench/): appends the master's own time for each API request that matches
 * LOTSE_BENCH_TIMED_REQUEST ("METHOD path-prefix") to the file LOTSE_BENCH_REQUEST_TIMES, one
 * line of milliseconds each. The time runs from the API server taking the request to its answer
 * written, as the apiserver's request histogram: a client's own figure also holds the client's
 * and the network's time, and on a 2-core machine the wait of the client process for a core (the
 * watch fan-out benchmark's watchers run on the same two cores as the master and the writer).
 * The master's histogram buckets (5 ms apart at their finest) are too coarse for few-ms writes.
 */
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

const FLUSH_EVERY_MS = 200;

function install(file: string, timed: string): void {
  const [method, pathPrefix = '/'] = timed.split(' ');
  // The master's own module, by path: a bundled copy would be another class.
  const root = join(dirname(process.argv[1]), '..');
  const { ApiServer } = require(join(root, 'dist', 'master', 'api', 'api-server.js')) as typeof import('../master/api/api-server');
  let lines: string[] = [];
  const serve = ApiServer.prototype.serve;
  ApiServer.prototype.serve = async function (this: InstanceType<typeof ApiServer>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== method || !(req.url ?? '').startsWith(pathPrefix)) return serve.call(this, req, res);
    const started = performance.now();
    try {
      await serve.call(this, req, res);
    } finally {
      lines.push((performance.now() - started).toFixed(3));
    }
  };
  // Written in batches off the requests' path; whatever a batch misses at exit is a bench's loss only.
  setInterval(() => {
    if (lines.length === 0) return;
    appendFileSync(file, `${lines.join('\n')}\n`);
    lines = [];
  }, FLUSH_EVERY_MS).unref();
}

const file = process.env.LOTSE_BENCH_REQUEST_TIMES;
const timed = process.env.LOTSE_BENCH_TIMED_REQUEST;
if (file && timed) install(file, timed);
