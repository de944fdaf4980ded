/**
 * What a node join costs the master (credential + serving certificate), sequential and 20 at
 * once, for the EC P-256 certificates joins now get against the RSA-2048 ones they used to get
 * (both issued in the same run by cluster/certificates, the join endpoint timed end to end).
 *
 *   npx esbuild bench/join.ts --bundle --platform=node --packages=external --outfile=bench/.out/join.js \
 *     && node bench/.out/join.js [--joins 40]
 */
import { createCa, issueCertificateAsync } from '../cluster/certificates';
import { rawRequest } from '../test/support/https-raw';
import { startTestMaster } from '../test/support/master';

const i = process.argv.indexOf('--joins');
const JOINS = i >= 0 ? Number(process.argv[i + 1]) : 40;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function certificates(keyType: 'rsa' | 'ec'): Promise<number[]> {
  const ca = createCa('bench');
  const ms: number[] = [];
  for (let n = 0; n < JOINS; n++) {
    const t = performance.now();
    await issueCertificateAsync(ca, { commonName: `system:node:n${n}`, sans: [`n${n}`, '127.0.0.1'], serverAuth: true, keyType });
    ms.push(performance.now() - t);
  }
  return ms;
}

async function main(): Promise<void> {
  for (const keyType of ['rsa', 'ec'] as const) {
    const ms = await certificates(keyType);
    console.log(`${keyType} certificate: p50 ${pct(ms, 0.5).toFixed(1)} ms, p99 ${pct(ms, 0.99).toFixed(1)} ms`);
  }
  const m = await startTestMaster();
  try {
    const join = (name: string) => rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: name, addresses: ['127.0.0.1'] }) });
    const seq: number[] = [];
    for (let n = 0; n < JOINS; n++) {
      const t = performance.now();
      const r = await join(`seq-${n}`);
      if (r.status !== 201) throw new Error(`join answered ${r.status}: ${r.body}`);
      seq.push(performance.now() - t);
    }
    console.log(`join (sequential): p50 ${pct(seq, 0.5).toFixed(1)} ms, p99 ${pct(seq, 0.99).toFixed(1)} ms`);
    const t = performance.now();
    await Promise.all(Array.from({ length: 20 }, (_, n) => join(`burst-${n}`)));
    console.log(`20 joins at once: ${(performance.now() - t).toFixed(0)} ms`);
  } finally {
    await m.stop();
  }
}

void main();
