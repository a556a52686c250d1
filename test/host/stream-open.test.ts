/**
 * How a stream opens over an association (issue 11, handshake latency): the client's
 * 'connect' fires as soon as the association is up, its SYN carries what is written right
 * after, the server answers behind its SYN+ACK, so request and answer cost one ESP packet each
 * way; a stream destroyed before it sent anything costs the peer nothing; a server that speaks
 * first still hears of the stream; a port nobody listens on still ends in a refusal.
 * ESP packets are counted on each association (SessionStats.packetsOut / packetsIn).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errnoOf } from '../../src/api/errno-map.js';
import { Errno } from '../../src/api/constants.js';
import { HipError } from '../../src/errors.js';
import { HipHost } from '../../src/host/host.js';
import type { HostStream } from '../../src/host/stream-mux.js';

const LO = '127.0.0.1';
const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

type Carrier = 'udp' | 'tcp';

/** Client a and server b, on the carrier; the association is not up yet. */
async function pair(carrier: Carrier, aStream: { ackDelayMs?: number } = {}): Promise<{ a: HipHost; b: HipHost }> {
  const a = await HipHost.create(carrier === 'udp' ? { udp: { address: LO }, stream: aStream } : { udp: false, stream: aStream });
  const b = await HipHost.create(carrier === 'udp' ? { udp: { address: LO } } : { udp: false, tcp: { address: LO } });
  hosts.push(a, b);
  a.peers.add(b.hit(), carrier === 'udp' ? { address: LO, port: b.udpAddress!.port } : { carrier: 'tcp', address: LO, port: b.tcpAddress!.port });
  return { a, b };
}

const connected = (s: HostStream): Promise<void> =>
  new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
const firstData = (s: HostStream): Promise<string> => new Promise((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
const out = (h: HipHost, peer: HipHost): number => h.associationStats(peer.hit())?.packetsOut ?? 0;

for (const carrier of ['udp', 'tcp'] as const) {
  describe(`opening a stream over the ${carrier.toUpperCase()} carrier`, () => {
    it("'connect' fires with the association; the write after it rides on the SYN and the answer on the packet after the SYN+ACK", async () => {
      // a's delayed ACKs wait long enough that none can fire before the answer is in, however
      // slow the machine: the count below is then the protocol's, not the scheduler's.
      const { a, b } = await pair(carrier, { ackDelayMs: 5000 });
      b.listenStream(7, (s) => {
        s.on('error', () => undefined); // a's destroy() at the end resets it
        s.on('data', (d: Buffer) => s.write(`echo ${d.toString()}`));
      });
      const s = a.openStream(b.hit(), 7);
      await connected(s);
      // 'connect' came with the association, before any ESP packet: the stream has not cost one yet.
      expect(a.isEstablished(b.hit())).toBe(true);
      expect(out(a, b)).toBe(0);
      const answer = firstData(s);
      s.write('hello');
      expect(await answer).toBe('echo hello');
      // a sent one ESP packet (SYN + 'hello'); b sent two (SYN+ACK, then the echo without
      // waiting for a's ACK). Before, 'connect' waited for the SYN+ACK, so 'hello' left in a
      // second packet a round trip later, and b's echo waited for a's ACK.
      expect(out(a, b)).toBe(1);
      expect(out(b, a)).toBe(2);
      s.destroy();
    });

    it('a stream destroyed right after connect sends nothing and the server never sees it', async () => {
      const { a, b } = await pair(carrier);
      let accepted = 0;
      b.listenStream(7, () => accepted++);
      const s = a.openStream(b.hit(), 7);
      await connected(s);
      s.destroy();
      // A datagram after it, on the same association and in order: once it is in, anything the
      // stream had sent would have been in too.
      const dgram = new Promise<void>((resolve) => b.bindDatagramPort(9, () => resolve()));
      await a.sendDatagram(b.hit(), 9, 9, new Uint8Array([1]));
      await dgram;
      expect(out(a, b)).toBe(1); // the datagram
      expect(accepted).toBe(0);
    });

    it('a server that speaks first: the SYN leaves without a write, and the greeting arrives', async () => {
      const { a, b } = await pair(carrier);
      b.listenStream(25, (s) => {
        s.on('error', () => undefined); // a's destroy() at the end resets it
        s.write('220 ready');
      });
      const s = a.openStream(b.hit(), 25);
      expect(await firstData(s)).toBe('220 ready');
      s.destroy();
    });

    it('a write to a port nobody listens on ends in ERR_HIP_STREAM_REFUSED (ECONNREFUSED)', async () => {
      const { a, b } = await pair(carrier);
      const s = a.openStream(b.hit(), 4444);
      const events: string[] = [];
      s.once('connect', () => {
        events.push('connect');
        s.write('anyone?');
      });
      const err = await new Promise<HipError>((resolve) => s.once('error', resolve));
      events.push('error');
      expect(events).toEqual(['connect', 'error']);
      expect(err).toBeInstanceOf(HipError);
      expect(err.code).toBe('ERR_HIP_STREAM_REFUSED');
      expect(errnoOf(err)).toBe(Errno.ECONNREFUSED);
      // Refused at the first answer: one SYN (with the data), no retransmissions.
      expect(out(a, b)).toBe(1);
      expect(b.associationStats(a.hit())!.drops['no-port']).toBe(1);
    });
  });
}
