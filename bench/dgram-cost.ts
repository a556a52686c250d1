/**
 * CPU microseconds per 1400-byte datagram on the send side, measured with process.cpuUsage()
 * (less sensitive to a shared machine's scheduling than wall-clock rates): a plain UDP send,
 * hipl's ESP seal alone, and hipl's whole sendDatagram (inner header, seal, UDP send).
 * The receiver is a plain socket that drops everything. npx tsx bench/dgram-cost.ts [n]
 */
import dgram from 'node:dgram';
import { HipHost } from '../src/host/host.js';

const n = Number(process.argv[2] ?? 100_000);
const sink = dgram.createSocket('udp4');
await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
sink.on('message', () => undefined);

async function cost(label: string, fn: () => void): Promise<void> {
  // Warm up, then time in slices that yield to the event loop, so completions do not pile up.
  const runSlices = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += 256) {
      for (let i = 0; i < 256; i++) fn();
      await new Promise((r) => setImmediate(r));
    }
  };
  await runSlices(n / 4);
  const c0 = process.cpuUsage();
  await runSlices(n);
  const c = process.cpuUsage(c0);
  console.log(`${label}: ${((c.user + c.system) / n).toFixed(2)} µs CPU per datagram (user ${(c.user / n).toFixed(2)}, system ${(c.system / n).toFixed(2)})`);
}

const msg = new Uint8Array(1400);
const plain = dgram.createSocket('udp4');
await new Promise<void>((r) => plain.bind(0, '127.0.0.1', r));
const port = sink.address().port;
await cost('plain UDP send', () => plain.send(msg, port, '127.0.0.1'));

const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
await a.connect(b.hit());
const hit = b.hit();
const session = (a as unknown as { sessionsByHit: Map<string, { outbound: { seal(p: Uint8Array, nh: number): Uint8Array } }> }).sessionsByHit.get(hit)!;
await cost('hipl ESP seal only (AES-128-GCM)', () => void session.outbound.seal(msg, 17));
// Aim hipl's packets at the sink, so the measured process does no receiving.
a.peers.add(hit, { address: '127.0.0.1', port });
(session as unknown as { locator: { peer: { port: number } } }).locator.peer.port = port;
await cost('hipl sendDatagram (inner header, seal, UDP send)', () => void a.sendDatagram(hit, 9, 9, msg));
await Promise.all([a.shutdown(0), b.shutdown(0)]);
process.exit(0);
