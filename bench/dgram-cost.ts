/**
 * CPU microseconds per datagram, measured with process.cpuUsage() (less sensitive to a shared
 * machine's scheduling than wall-clock rates). Send side: a plain UDP send, hipl's ESP seal
 * alone, and hipl's whole sendDatagram (inner header, seal, UDP send) to a plain socket that
 * drops everything. Receive side: hipl's ESP open alone, and the whole receive path from the
 * carrier socket's handler to the port's handler (locator, SA lookup, replay window, open,
 * inner header, dispatch), fed packets sealed beforehand (no kernel receive in it).
 * npx tsx bench/dgram-cost.ts [n] [size]
 */
import dgram from 'node:dgram';
import { HipHost } from '../src/host/host.js';
import { encodeInnerDatagram } from '../src/host/inner-datagram.js';
import type { InboundSa, OutboundSa } from '../src/esp/sa.js';
import type { CarrierPeer } from '../src/transport/peer.js';

const n = Number(process.argv[2] ?? 100_000);
const size = Number(process.argv[3] ?? 1400);
const sink = dgram.createSocket('udp4');
await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
sink.on('message', () => undefined);

/** Warm up, then time in slices that yield to the event loop, so completions do not pile up. */
async function cost(label: string, fn: (i: number) => void): Promise<void> {
  let i = 0;
  const runSlices = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += 256) {
      for (let k = 0; k < 256; k++) fn(i++);
      await new Promise((r) => setImmediate(r));
    }
  };
  await runSlices(n / 4);
  const c0 = process.cpuUsage();
  await runSlices(n);
  const c = process.cpuUsage(c0);
  console.log(`${label}: ${((c.user + c.system) / n).toFixed(2)} µs CPU per datagram (user ${(c.user / n).toFixed(2)}, system ${(c.system / n).toFixed(2)})`);
}

const msg = new Uint8Array(size);
const plain = dgram.createSocket('udp4');
await new Promise<void>((r) => plain.bind(0, '127.0.0.1', r));
const port = sink.address().port;
await cost(`plain UDP send, ${size} B`, () => plain.send(msg, port, '127.0.0.1'));

interface SessionView {
  outbound: OutboundSa;
  inbound: InboundSa;
  localHit: Uint8Array;
  peerHit: Uint8Array;
  locator: { peer: CarrierPeer };
}
type HostView = { sessionsByHit: Map<string, SessionView>; udp: { emit(e: 'payload', b: Uint8Array, from: CarrierPeer): void } };
const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
await a.connect(b.hit());
const hit = b.hit();
const session = (a as unknown as HostView).sessionsByHit.get(hit)!;
await cost('hipl ESP seal only (AES-128-GCM)', () => void session.outbound.seal(msg, 17));

// Receive: packets sealed by a for b (after the seals above, so b's window takes them), fed to b.
const total = Math.ceil((n * 5) / 4 / 256) * 256 * 2;
const inner = encodeInnerDatagram({ srcPort: 9, dstPort: 9, data: msg }, session.localHit, session.peerHit, { checksum: false });
const sealed = Array.from({ length: total }, () => session.outbound.seal(inner, 17));
const bSession = (b as unknown as HostView).sessionsByHit.get(a.hit())!;
await cost('hipl ESP open only', (i) => void bSession.inbound.open(sealed[i]!));
let got = 0;
b.bindDatagramPort(9, () => void got++);
const from = { ...bSession.locator.peer };
const bUdp = (b as unknown as HostView).udp;
await cost('hipl receive (carrier handler to port handler)', (i) => bUdp.emit('payload', sealed[total / 2 + i]!, from));
if (got < n) throw new Error(`only ${got} datagrams delivered`);

// Aim hipl's packets at the sink, so the measured process does no receiving.
a.peers.add(hit, { address: '127.0.0.1', port });
session.locator.peer.port = port;
await cost('hipl sendDatagram (inner header, seal, UDP send)', () => void a.sendDatagram(hit, 9, 9, msg));
await Promise.all([a.shutdown(0), b.shutdown(0)]);
process.exit(0);
