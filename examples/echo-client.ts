/**
 * The client of echo-server.ts: reaches the server by its HIT, sends a message over a stream
 * and as a datagram, and checks that both come back.
 *
 * Run: `npx tsx examples/echo-client.ts HIT ADDR:PORT [MESSAGE]`
 * Exits 0 when both echoes match, 1 otherwise.
 */
import { createHost } from '../src/index.js';

const [hit, where, message = 'Hello Sailor!'] = process.argv.slice(2);
const m = /^(.*):(\d+)$/.exec(where ?? '');
if (!hit || !m) {
  console.error('usage: echo-client.ts HIT ADDR:PORT [MESSAGE]');
  process.exit(1);
}
const address = m[1]!.replace(/^\[(.*)\]$/, '$1');
const port = Number(m[2]);

const host = await createHost({ udp: { address: address.includes(':') ? '::1' : '127.0.0.1' } });
host.peers.add(hit, { address, port });
host.on('bex', (e) => console.log(`BEX ${e.step.padEnd(11)} ${e.elapsedMs.toFixed(1)} ms`));

async function overStream(): Promise<string> {
  const stream = host.connect({ hit: hit!, port: 7, signal: AbortSignal.timeout(10_000) });
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  const done = new Promise<string>((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('error', reject);
  });
  stream.end(message);
  return done;
}

async function overDatagram(): Promise<string> {
  const sock = host.createSocket('udp');
  const reply = new Promise<string>((resolve, reject) => {
    sock.once('message', (data) => resolve(data.toString()));
    setTimeout(() => reject(new Error('no datagram echo within 10 s')), 10_000).unref();
  });
  await sock.send(message, hit!, 7);
  const text = await reply;
  sock.close();
  return text;
}

let ok = false;
try {
  const streamed = await overStream();
  console.log(`stream echo:   "${streamed}"`);
  const datagram = await overDatagram();
  console.log(`datagram echo: "${datagram}"`);
  ok = streamed === message && datagram === message;
} catch (e) {
  console.error(e instanceof Error ? `${(e as { code?: string }).code ?? 'error'}: ${e.message}` : String(e));
} finally {
  await host.close(500);
}
console.log(ok ? 'echo OK' : 'echo FAILED');
process.exit(ok ? 0 : 1);
