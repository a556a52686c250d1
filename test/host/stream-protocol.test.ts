import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { HipArgumentError, HipProtocolError } from '../../src/errors.js';
import {
  StreamConnection,
  WINDOW_SCALE,
  decodeSegment,
  encodeSegment,
  resetForUnmatched,
  segmentChecksum,
  type Segment,
} from '../../src/host/stream-protocol.js';
import { HIT_A, HIT_B, Sim, dataSegments, payload, pureAcks } from './stream-protocol-sim.js';

const NO_FLAGS = { syn: false, ack: false, fin: false, rst: false, psh: false };

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipProtocolError || e instanceof HipArgumentError) return e.code;
    throw e;
  }
  return undefined;
}

describe('segment codec', () => {
  const synC3: Segment = {
    srcPort: 65500,
    dstPort: 22,
    seq: 1,
    ack: 0,
    flags: { ...NO_FLAGS, syn: true },
    window: 65535,
    data: new Uint8Array(0),
  };

  it('reproduces the RFC 7401 App. C.3 TCP checksum over HITs (0x6faa)', () => {
    const bytes = encodeSegment(synC3, HIT_A, HIT_B);
    // RFC 9293 layout: ports, seq, ack, offset 5 + SYN, window, checksum, urgent 0.
    expect(bytesToHex(bytes)).toBe('ffdc0016' + '00000001' + '00000000' + '5002' + 'ffff' + '6faa' + '0000');
  });

  it('decodes the App. C.3 segment and refuses it between other HITs', () => {
    const bytes = hexToBytes('ffdc0016 00000001 00000000 5002 ffff 6faa 0000');
    expect(decodeSegment(bytes, HIT_A, HIT_B)).toEqual(synC3);
    // The one's-complement sum does not see the order of the two addresses, but it sees a third HIT.
    expect(errCode(() => decodeSegment(bytes, HIT_A, hexToBytes('2001 0020 0000 0000 0000 0000 0000 0003')))).toBe('ERR_STREAM_BAD_CHECKSUM');
  });

  const segArb = fc.record({
    srcPort: fc.integer({ min: 0, max: 0xffff }),
    dstPort: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.integer({ min: 0, max: 0xffffffff }),
    ack: fc.integer({ min: 0, max: 0xffffffff }),
    flags: fc.record({ syn: fc.boolean(), ack: fc.boolean(), fin: fc.boolean(), rst: fc.boolean(), psh: fc.boolean() }),
    window: fc.integer({ min: 0, max: 0xffff }),
    data: fc.uint8Array({ maxLength: 1500 }),
  });

  it('round-trips any segment', () => {
    fc.assert(
      fc.property(segArb, (seg) => {
        const bytes = encodeSegment(seg, HIT_A, HIT_B);
        expect(bytes.length).toBe(20 + seg.data.length);
        expect(decodeSegment(bytes, HIT_A, HIT_B)).toEqual(seg);
      }),
    );
  });

  it('detects any single corrupted byte as a bad checksum', () => {
    fc.assert(
      fc.property(segArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (seg, at, x) => {
        const bytes = encodeSegment(seg, HIT_A, HIT_B);
        const pos = at % bytes.length;
        if (pos === 12) return; // the data-offset byte: may fail earlier as a bad offset
        bytes[pos] = bytes[pos]! ^ x;
        expect(errCode(() => decodeSegment(bytes, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_CHECKSUM');
      }),
    );
  });

  it('rejects short segments, bad data offsets and out-of-range fields with typed errors', () => {
    expect(errCode(() => decodeSegment(new Uint8Array(19), HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    const bytes = encodeSegment(synC3, HIT_A, HIT_B);
    bytes[12] = 0x40; // data offset 4 words < 5
    expect(errCode(() => decodeSegment(bytes, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    bytes[12] = 0x60; // 24 bytes of header in a 20-byte segment
    expect(errCode(() => decodeSegment(bytes, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => encodeSegment({ ...synC3, srcPort: 70000 }, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => encodeSegment({ ...synC3, seq: -1 }, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => encodeSegment({ ...synC3, window: 65536 }, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => encodeSegment(synC3, HIT_A, new Uint8Array(4)))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => encodeSegment({ ...synC3, data: new Uint8Array(65516) }, HIT_A, HIT_B))).toBe('ERR_STREAM_BAD_SEGMENT');
  });

  it('skips header options a peer might send (data offset > 5)', () => {
    // Build by hand: a 24-byte header with a NOP,NOP,NOP,EOL option word, then 3 data bytes.
    const raw = hexToBytes('ffdc0016 00000001 00000000 6018 ffff 0000 0000 01010100 616263');
    const c = segmentChecksum(HIT_A, HIT_B, raw);
    raw[16] = c >> 8;
    raw[17] = c & 0xff;
    const sum = decodeSegment(raw, HIT_A, HIT_B);
    expect(sum.data).toEqual(new Uint8Array([0x61, 0x62, 0x63]));
    expect(sum.flags).toEqual({ syn: false, ack: true, fin: false, rst: false, psh: true });
  });

  it('builds RFC 9293 resets for segments that match no connection', () => {
    const syn: Segment = { ...synC3, seq: 0xffffffff, data: new Uint8Array(3) };
    expect(resetForUnmatched(syn)).toMatchObject({ srcPort: 22, dstPort: 65500, seq: 0, ack: 3, flags: { rst: true, ack: true } });
    const withAck: Segment = { ...synC3, flags: { ...NO_FLAGS, ack: true }, ack: 777 };
    expect(resetForUnmatched(withAck)).toMatchObject({ seq: 777, flags: { rst: true, ack: false } });
    expect(resetForUnmatched({ ...synC3, flags: { ...NO_FLAGS, rst: true } })).toBeUndefined();
  });
});

describe('handshake and transfer on a clean network', () => {
  it('does SYN, SYN+ACK, ACK and reports connected on both sides', () => {
    const sim = new Sim();
    sim.open();
    sim.run();
    const [syn, synAck, ack] = sim.wire;
    expect(syn).toMatchObject({ from: 'a', seg: { seq: 1000, flags: { syn: true, ack: false } } });
    expect(synAck).toMatchObject({ from: 'b', seg: { seq: 5000, ack: 1001, flags: { syn: true, ack: true } } });
    expect(ack).toMatchObject({ from: 'a', seg: { seq: 1001, ack: 5001, flags: { syn: false, ack: true } } });
    expect(sim.wire.length).toBe(3);
    expect(sim.types('a')).toEqual(['connected']);
    expect(sim.types('b')).toEqual(['connected']);
    expect(sim.a.state).toBe('established');
    expect(sim.b.state).toBe('established');
    // 1 MiB buffer, nothing held: the window field saturates at 65535 units of 16.
    expect(syn!.seg.window).toBe(65535);
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.b.nextTimeout()).toBeUndefined();
  });

  it('moves 1 MB each way at once, byte-identical, with no retransmission', () => {
    const n = 1_000_000;
    const da = payload(n, 11);
    const db = payload(n, 22);
    const sim = new Sim({ minDelay: 5, maxDelay: 5 });
    sim.send('a', da, { end: true });
    sim.send('b', db, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(Buffer.compare(sim.received('a'), db)).toBe(0);
    for (const c of [sim.a, sim.b]) {
      expect(c.stats.retransmissions).toBe(0);
      expect(c.stats.duplicates).toBe(0);
      expect(c.stats.outOfOrder).toBe(0);
      expect(c.state).toBe('closed');
      expect(c.bufferedBytes).toBe(0);
    }
    // Every byte went on the wire exactly once, and never more than one MSS per segment.
    for (const side of ['a', 'b'] as const) {
      const segs = dataSegments(sim, side);
      expect(segs.reduce((s, w) => s + w.seg.data.length, 0)).toBe(n);
      expect(Math.max(...segs.map((w) => w.seg.data.length))).toBe(1200);
    }
    expect(sim.types('a').at(-1)).toBe('closed');
    expect(sim.types('b').at(-1)).toBe('closed');
    expect(sim.a.stats.segmentsSent).toBe(sim.b.stats.segmentsReceived);
  });

  it('acknowledges a one-way transfer with about one ACK per two segments', () => {
    const n = 1200 * 300;
    const sim = new Sim({ minDelay: 5, maxDelay: 5 });
    sim.send('a', payload(n, 3), { end: true, chunk: 1200 * 50 });
    sim.open();
    sim.run();
    const data = dataSegments(sim, 'a').length;
    expect(data).toBe(300);
    const acks = pureAcks(sim, 'b').length;
    expect(acks).toBeGreaterThanOrEqual(150);
    expect(acks).toBeLessThanOrEqual(0.6 * data);
  });

  it('never has more than sendWindowSegments segments in flight', () => {
    const sim = new Sim({ minDelay: 20, maxDelay: 20, config: { sendWindowSegments: 8 } });
    sim.send('a', payload(100_000, 4), { end: true });
    sim.open();
    let worst = 0;
    sim.run({
      until: () => {
        // in flight = bytes sent beyond the latest ACK from b, in segments of at most 1200
        worst = Math.max(worst, Math.ceil((sim.a.bufferedBytes - pending(sim)) / 1200));
        return false;
      },
    });
    expect(worst).toBeLessThanOrEqual(8);
    expect(Buffer.compare(sim.received('b'), payload(100_000, 4))).toBe(0);
    function pending(s: Sim): number {
      // bytes the app wrote minus bytes that went on the wire at least once
      const sent = new Set<number>();
      let onWire = 0;
      for (const w of dataSegments(s, 'a')) if (!sent.has(w.seg.seq)) (sent.add(w.seg.seq), (onWire += w.seg.data.length));
      return s.ep.a.sent - onWire;
    }
  });
});

describe('data on the SYN', () => {
  it('a first write rides on the SYN and the server has it at accept, a round trip early', () => {
    const sim = new Sim({ minDelay: 10, maxDelay: 10 });
    const hello = new TextEncoder().encode('hello');
    sim.send('a', hello, { end: true });
    sim.open();
    const syn = sim.wire.find((w) => w.from === 'a' && w.seg.flags.syn)!;
    expect(Buffer.from(syn.seg.data).toString()).toBe('hello');
    sim.run({ until: () => sim.ep.b.receivedBytes > 0 });
    // b has the bytes when the SYN arrives (t = 10), before a's handshake ACK (t = 30).
    expect(sim.now).toBe(10);
    const synAck = () => sim.wire.find((w) => w.from === 'b' && w.seg.flags.syn)!;
    sim.run();
    expect(synAck().seg.ack).toBe((syn.seg.seq + 1 + hello.length) >>> 0);
    expect(Buffer.from(sim.received('b')).toString()).toBe('hello');
    expect(sim.a.stats.retransmissions).toBe(0);
  });

  it("the server's answer leaves behind its SYN+ACK, without waiting for the client's ACK", () => {
    // Request/response over a fresh stream: a's request rides on the SYN (t = 0), b answers as
    // soon as it has it (t = 10), so a has the answer one round trip after its SYN (t = 20),
    // not two (b waiting for a's handshake ACK would send it at t = 30, a having it at t = 40).
    const sim = new Sim({ minDelay: 10, maxDelay: 10 });
    sim.send('a', new TextEncoder().encode('ping'));
    sim.on('b', (e, s) => {
      if (e.type === 'data') s.b.write(new TextEncoder().encode('pong'), s.now);
    });
    sim.open();
    sim.run({ until: () => sim.ep.a.receivedBytes > 0 });
    expect(sim.now).toBe(20);
    expect(Buffer.from(sim.received('a')).toString()).toBe('pong');
    const answer = sim.wire.find((w) => w.from === 'b' && w.seg.data.length > 0)!;
    expect(answer.t).toBe(10);
    expect(answer.seg.flags).toMatchObject({ syn: false, ack: true });
    sim.run();
    expect(sim.a.stats.retransmissions + sim.b.stats.retransmissions).toBe(0);
    expect(sim.b.state).toBe('established');
  });

  it('a SYN with data to a port nobody listens on is refused too (the reset acknowledges the data)', () => {
    const sim = new Sim({ noListener: true });
    sim.send('a', payload(500, 3));
    sim.open();
    sim.run();
    const rst = sim.wire.find((w) => w.from === 'b' && w.seg.flags.rst)!;
    expect(rst.seg.ack).toBe((1000 + 1 + 500) >>> 0);
    expect(sim.ep.a.events).toEqual([{ type: 'reset', reason: 'connection refused' }]);
    // One SYN, one reset: the client did not go on retransmitting into the refusal.
    expect(sim.wire.filter((w) => w.from === 'a').length).toBe(1);
    expect(sim.a.nextTimeout()).toBeUndefined();
  });

  it('a peer that acknowledges only the SYN gets the data again', () => {
    const c = new StreamConnection({ localPort: 40000, remotePort: 22, initialSeq: 1000, role: 'client', config: { initialRtoMs: 50 } });
    c.open(0);
    c.write(new TextEncoder().encode('hello'), 0);
    const syn = c.pollSegment()!;
    expect(syn.data.length).toBe(5);
    c.handleSegment({ srcPort: 22, dstPort: 40000, seq: 5000, ack: 1001, flags: { ...NO_FLAGS, syn: true, ack: true }, window: 1000, data: new Uint8Array(0) }, 10);
    expect(c.state).toBe('established');
    for (let t = 10; t < 1000; t += 10) {
      c.handleTimeout(t);
      for (let seg = c.pollSegment(); seg; seg = c.pollSegment()) {
        if (seg.data.length > 0) {
          expect(seg.flags.syn).toBe(false);
          expect(seg.seq).toBe(1001);
          expect(Buffer.from(seg.data).toString()).toBe('hello');
          return;
        }
      }
    }
    throw new Error('the data was never sent again');
  });
});

describe('closing', () => {
  it('half close: the side that ended still receives, the other still sends', () => {
    const da = payload(50_000, 5);
    const db = payload(70_000, 6);
    const sim = new Sim();
    sim.send('a', da, { end: true });
    // b answers only once a has finished: its writes all happen after a's FIN arrived.
    sim.on('b', (e, s) => {
      if (e.type === 'end') {
        expect(s.b.state).toBe('established');
        expect(s.a.state).toBe('fin-wait');
        s.send('b', db, { end: true });
        s.appWrite('b');
      }
    });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(Buffer.compare(sim.received('a'), db)).toBe(0);
    expect(sim.types('b').filter((t) => t !== 'data')).toEqual(['connected', 'end', 'closed']);
    expect(sim.types('a').filter((t) => t !== 'data')).toEqual(['connected', 'end', 'closed']);
    // a's data all arrived before its end; b's data after.
    const firstEnd = sim.ep.b.events.findIndex((e) => e.type === 'end');
    expect(sim.ep.b.events.slice(firstEnd).some((e) => e.type === 'data')).toBe(false);
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.b.nextTimeout()).toBeUndefined();
  });

  it('full close from both sides at once', () => {
    const sim = new Sim();
    sim.send('a', new Uint8Array(0), { end: true });
    sim.send('b', new Uint8Array(0), { end: true });
    sim.open();
    sim.run();
    expect(sim.types('a')).toEqual(['connected', 'end', 'closed']);
    expect(sim.types('b')).toEqual(['connected', 'end', 'closed']);
    expect(sim.wire.filter((w) => w.seg.flags.fin).length).toBe(2);
    expect(sim.a.stats.retransmissions + sim.b.stats.retransmissions).toBe(0);
  });

  it('reset aborts at once: the peer gets a reset event', () => {
    const sim = new Sim();
    sim.send('a', payload(200_000, 7));
    sim.open();
    sim.run({ until: () => sim.ep.b.receivedBytes > 50_000 });
    sim.a.reset(sim.now);
    sim.pump();
    sim.run();
    expect(sim.types('a').at(-1)).toBe('closed');
    expect(sim.ep.b.events.at(-1)).toEqual({ type: 'reset', reason: 'connection reset by peer' });
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.b.nextTimeout()).toBeUndefined();
    expect(errCode(() => sim.a.write(new Uint8Array(1), sim.now))).toBe('ERR_STREAM_CLOSED');
  });

  it('a SYN to a port nobody listens on is refused', () => {
    const sim = new Sim({ noListener: true });
    sim.open();
    sim.run();
    expect(sim.ep.a.events).toEqual([{ type: 'reset', reason: 'connection refused' }]);
    expect(sim.a.nextTimeout()).toBeUndefined();
  });
});

describe('loss, duplication and reordering', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: 20% loss, 10% duplication, reordering: intact both ways and a clean close`, () => {
      const da = payload(300_000, 100 + seed);
      const db = payload(200_000, 200 + seed);
      const sim = new Sim({ seed, loss: 0.2, dup: 0.1, minDelay: 5, maxDelay: 60 });
      sim.send('a', da, { end: true });
      sim.send('b', db, { end: true });
      sim.open();
      sim.run();
      expect(Buffer.compare(sim.received('b'), da)).toBe(0);
      expect(Buffer.compare(sim.received('a'), db)).toBe(0);
      expect(sim.types('a').filter((t) => t !== 'data' && t !== 'drain')).toEqual(['connected', 'end', 'closed']);
      expect(sim.types('b').filter((t) => t !== 'data' && t !== 'drain')).toEqual(['connected', 'end', 'closed']);
      // The network really was hostile, and the machines saw it.
      const lost = sim.wire.filter((w) => !w.delivered).length;
      expect(lost / sim.wire.length).toBeGreaterThan(0.15);
      expect(sim.a.stats.retransmissions).toBeGreaterThan(0);
      expect(sim.b.stats.retransmissions).toBeGreaterThan(0);
      expect(sim.a.stats.outOfOrder + sim.b.stats.outOfOrder).toBeGreaterThan(0);
      expect(sim.a.stats.duplicates + sim.b.stats.duplicates).toBeGreaterThan(0);
      // Once everything settled no timer is left.
      expect(sim.a.nextTimeout()).toBeUndefined();
      expect(sim.b.nextTimeout()).toBeUndefined();
    });
  }

  it('random networks (property): every byte arrives once and in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (seed, loss, dup, na, nb, iss) => {
          const da = payload(na, seed);
          const db = payload(nb, seed + 1);
          const sim = new Sim({ seed, loss, dup, minDelay: 1, maxDelay: 50, issA: iss, issB: (iss * 7) >>> 0, config: { mss: 500 } });
          sim.send('a', da, { end: true, chunk: 3000 });
          sim.send('b', db, { end: true, chunk: 3000 });
          sim.open();
          sim.run();
          expect(Buffer.compare(sim.received('b'), da)).toBe(0);
          expect(Buffer.compare(sim.received('a'), db)).toBe(0);
          expect(sim.a.state).toBe('closed');
          expect(sim.b.state).toBe('closed');
          expect(sim.types('a')).not.toContain('error');
          expect(sim.types('b')).not.toContain('error');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('corrupted segments are dropped, counted and recovered from', () => {
    const da = payload(100_000, 9);
    const sim = new Sim({ seed: 9, corrupt: 0.1, minDelay: 5, maxDelay: 20 });
    sim.send('a', da, { end: true });
    sim.send('b', new Uint8Array(0), { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(sim.b.stats.badChecksums).toBeGreaterThan(0);
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
  });

  it('fast retransmit: one lost data segment is resent on three duplicate ACKs, before any RTO', () => {
    let dataSeen = 0;
    let lostSeq: number | undefined;
    const sim = new Sim({
      minDelay: 10,
      maxDelay: 10,
      drop: (seg, from) => {
        if (from !== 'a' || seg.data.length === 0) return false;
        if (++dataSeen === 3) {
          lostSeq = seg.seq;
          return true;
        }
        return false;
      },
    });
    const da = payload(1200 * 40, 12);
    sim.send('a', da, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(sim.a.stats.retransmissions).toBe(1);
    const sends = dataSegments(sim, 'a').filter((w) => w.seg.seq === lostSeq);
    expect(sends.length).toBe(2);
    // Resent one round trip later (20 ms), well before the 200 ms initial RTO.
    expect(sends[1]!.t - sends[0]!.t).toBeLessThan(200);
    expect(sim.b.stats.outOfOrder).toBeGreaterThanOrEqual(3);
  });
});

describe('congestion control (NewReno) and RTT sampling', () => {
  it('slow start: the first flight is the 10-segment initial window, and the window then grows', () => {
    const sim = new Sim({ minDelay: 20, maxDelay: 20 });
    sim.send('a', payload(1200 * 200, 41), { end: true });
    sim.open();
    sim.run();
    // Data segments a sent before b's first acknowledgement of data could arrive.
    // (The first 1200 bytes rode on the SYN; the initial window counts from the handshake on.)
    const data = dataSegments(sim, 'a').filter((w) => !w.seg.flags.syn);
    const firstAckOfData = sim.wire.find((w) => w.from === 'b' && !w.seg.flags.syn && w.seg.flags.ack && w.delivered && w.t > data[0]!.t)!;
    const firstFlight = data.filter((w) => w.t < firstAckOfData.t + 20);
    // Ten segments, plus one for the 1200 bytes the SYN+ACK acknowledged (slow start).
    expect(firstFlight.length).toBe(11);
    expect(sim.a.congestionWindow).toBeGreaterThan(10 * 1200);
    expect(Buffer.compare(sim.received('b'), payload(1200 * 200, 41))).toBe(0);
  });

  it('fast retransmit halves the window; a timeout collapses it to one segment', () => {
    let dataSeen = 0;
    let before = 0;
    let afterFast = 0;
    const sim = new Sim({
      minDelay: 10,
      maxDelay: 10,
      drop: (seg, from) => from === 'a' && seg.data.length > 0 && ++dataSeen === 60,
      config: { sendWindowSegments: 64 },
    });
    sim.send('a', payload(1200 * 150, 42), { end: true });
    sim.open();
    sim.run({
      until: () => {
        // The window reacts when the loss is detected, which may be a paced moment before the resend.
        if (sim.a.stats.retransmissions === 0 && sim.a.stats.lostBySack === 0) before = sim.a.congestionWindow;
        else if (afterFast === 0) afterFast = sim.a.congestionWindow;
        return false;
      },
    });
    expect(sim.a.stats.retransmissions).toBe(1);
    // At most 64 segments (sendWindowSegments) can fly, so half the flight is at most 32; the
    // window had grown past that in slow start.
    expect(before).toBeGreaterThan(32 * 1200);
    expect(afterFast).toBeLessThanOrEqual(32 * 1200);
    expect(afterFast).toBeGreaterThanOrEqual(2 * 1200);

    // A peer that stops answering: after the first timeout only one segment may be in flight.
    const quiet = new Sim({ minDelay: 10, maxDelay: 10, drop: (_seg, from, t) => from === 'b' && t > 60 });
    quiet.send('a', payload(1200 * 300, 43), { end: true });
    quiet.open();
    quiet.run({ until: () => quiet.a.stats.retransmissions > 0, maxTime: 10_000 });
    expect(quiet.a.congestionWindow).toBe(1200);
  });

  it('window updates are not duplicate ACKs; three real duplicates trigger fast retransmit', () => {
    // A client with five segments in flight gets three pure ACKs that acknowledge nothing new.
    const run = (windows: number[]): number => {
      const c = new StreamConnection({ localPort: 40000, remotePort: 22, initialSeq: 1000, role: 'client' });
      c.open(0);
      c.pollSegment(); // SYN
      const ack = (w: number): Segment => ({ srcPort: 22, dstPort: 40000, seq: 5001, ack: 1001, flags: { ...NO_FLAGS, ack: true }, window: w, data: new Uint8Array(0) });
      c.handleSegment({ ...ack(1000), seq: 5000, flags: { ...NO_FLAGS, syn: true, ack: true } }, 1);
      c.write(new Uint8Array(6000), 2);
      while (c.pollSegment());
      for (const w of windows) c.handleSegment(ack(w), 3);
      return c.stats.retransmissions;
    };
    // The same window each time: duplicates, so the first segment is resent at once.
    expect(run([1000, 1000, 1000])).toBe(1);
    // A reader catching up announces a bigger window each time: no hole is implied.
    expect(run([1100, 1200, 1300])).toBe(0);
  });

  it("Karn: the ACK of a retransmitted segment gives no RTT sample", () => {
    // A lone segment is lost once; its retransmission is acknowledged over a much slower path.
    // Timing that ACK would add a ~400 ms sample to a 20 ms estimate.
    let lost = false;
    const sim = new Sim({
      minDelay: 10,
      maxDelay: 10,
      drop: (seg, from) => {
        if (from !== 'a' || seg.data.length !== 7 || lost) return false;
        lost = true;
        return true;
      },
    });
    sim.open();
    sim.run({ until: () => sim.ep.b.conn !== undefined && sim.b.state === 'established' && sim.a.state === 'established' });
    sim.a.write(new Uint8Array(100), sim.now);
    sim.run({ maxTime: sim.now + 1000 });
    const srtt = sim.a.smoothedRttMs!;
    expect(srtt).toBeLessThan(60);
    sim.a.write(new Uint8Array(7), sim.now);
    const slow = sim as unknown as { opts: { minDelay: number; maxDelay: number } };
    sim.run({ until: () => sim.a.stats.retransmissions > 0, maxTime: sim.now + 5000 });
    slow.opts.minDelay = slow.opts.maxDelay = 200;
    sim.run({ until: () => sim.a.bufferedBytes === 0, maxTime: sim.now + 5000 });
    expect(sim.a.bufferedBytes).toBe(0);
    expect(sim.a.smoothedRttMs).toBe(srtt);
  });
});

describe('lost control segments', () => {
  function firstOnly(pred: (s: Segment) => boolean, side: 'a' | 'b') {
    let done = false;
    return (seg: Segment, from: 'a' | 'b') => {
      if (done || from !== side || !pred(seg)) return false;
      done = true;
      return true;
    };
  }

  it('SYN lost: resent after the initial RTO, then connects', () => {
    const sim = new Sim({ drop: firstOnly((s) => s.flags.syn && !s.flags.ack, 'a') });
    sim.open();
    sim.run();
    const syns = sim.wire.filter((w) => w.seg.flags.syn && !w.seg.flags.ack);
    expect(syns.map((w) => w.t)).toEqual([0, 200]);
    expect(sim.types('a')).toEqual(['connected']);
    expect(sim.types('b')).toEqual(['connected']);
    expect(sim.a.stats.retransmissions).toBe(1);
  });

  it('SYN+ACK lost: the repeated SYN draws a new SYN+ACK at once', () => {
    const sim = new Sim({ drop: firstOnly((s) => s.flags.syn && s.flags.ack, 'b') });
    sim.open();
    sim.run();
    const synAcks = sim.wire.filter((w) => w.seg.flags.syn && w.seg.flags.ack);
    // Client RTO at 200 ms, the SYN arrives 10 ms later and is answered without waiting.
    expect(synAcks.map((w) => w.t)).toEqual([10, 210]);
    expect(sim.types('a')).toEqual(['connected']);
    expect(sim.types('b')).toEqual(['connected']);
    expect(sim.b.stats.duplicates).toBe(1);
  });

  it('handshake ACK lost: the server learns from the first data segment', () => {
    const sim = new Sim({ drop: firstOnly((s) => s.flags.ack && !s.flags.syn && s.data.length === 0, 'a') });
    const da = payload(5000, 13);
    sim.send('a', da, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
  });

  it('FIN lost: resent, and both sides close', () => {
    const da = payload(10_000, 14);
    const sim = new Sim({ drop: firstOnly((s) => s.flags.fin, 'a') });
    sim.send('a', da, { end: true });
    sim.on('b', (e, s) => {
      if (e.type === 'end') s.b.end(s.now);
    });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(sim.wire.filter((w) => w.from === 'a' && w.seg.flags.fin).length).toBe(2);
    expect(sim.types('a').at(-1)).toBe('closed');
    expect(sim.types('b').at(-1)).toBe('closed');
  });

  it('last ACK lost: the closed side re-acknowledges the repeated FIN while it lingers', () => {
    const sim = new Sim({
      // a closes first; the last segment of the close is a's ACK of b's FIN.
      drop: (() => {
        let bFinSeen = false;
        let dropped = false;
        return (seg: Segment, from: 'a' | 'b') => {
          if (from === 'b' && seg.flags.fin) bFinSeen = true;
          if (dropped || from !== 'a' || !bFinSeen || seg.flags.fin || seg.data.length > 0) return false;
          dropped = true;
          return true;
        };
      })(),
    });
    sim.send('a', payload(3000, 15), { end: true });
    sim.on('b', (e, s) => {
      if (e.type === 'end') s.b.end(s.now);
    });
    sim.open();
    sim.run();
    expect(sim.types('a').at(-1)).toBe('closed');
    expect(sim.types('b').at(-1)).toBe('closed');
    expect(sim.ep.a.closedAt!).toBeLessThan(sim.ep.b.closedAt!);
    expect(sim.wire.filter((w) => w.from === 'b' && w.seg.flags.fin).length).toBe(2);
    expect(sim.a.stats.duplicates).toBe(1);
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.b.nextTimeout()).toBeUndefined();
  });
});

describe('timeouts', () => {
  /** Times of the retransmissions for RTO 200 ms doubling up to 4000 ms. */
  function schedule(retries: number): number[] {
    const out = [0];
    let rto = 200;
    for (let i = 0; i < retries; i++) {
      out.push(out.at(-1)! + rto);
      rto = Math.min(rto * 2, 4000);
    }
    out.push(out.at(-1)! + rto); // the timeout that gives up
    return out;
  }

  it('a silent peer: SYN backoff, then ERR_STREAM_TIMEOUT after maxRetries, and no timer left', () => {
    const sim = new Sim({ drop: () => true });
    sim.open();
    sim.run();
    const t = schedule(12);
    const syns = sim.wire.filter((w) => w.seg.flags.syn);
    expect(syns.map((w) => w.t)).toEqual(t.slice(0, 13));
    expect(sim.a.stats.retransmissions).toBe(12);
    const last = sim.ep.a.events.at(-1);
    expect(last).toMatchObject({ type: 'error', code: 'ERR_STREAM_TIMEOUT' });
    expect(sim.ep.a.closedAt).toBe(t[13]);
    expect(sim.a.state).toBe('closed');
    expect(sim.a.nextTimeout()).toBeUndefined();
  });

  it('a peer that goes silent mid-transfer times out too', () => {
    let cut = false;
    const sim = new Sim({ drop: () => cut, config: { maxRetries: 5 } });
    sim.send('a', payload(500_000, 16));
    sim.open();
    sim.run({ until: () => sim.ep.b.receivedBytes > 100_000 });
    cut = true;
    const before = sim.a.stats.retransmissions;
    sim.run();
    expect(sim.ep.a.events.at(-1)).toMatchObject({ type: 'error', code: 'ERR_STREAM_TIMEOUT' });
    expect(sim.a.stats.retransmissions - before).toBe(5);
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.a.bufferedBytes).toBe(0);
    // The server had nothing to send, so it never noticed: no timer was running there either.
    expect(sim.b.state).toBe('established');
    expect(sim.b.nextTimeout()).toBeUndefined();
  });
});

describe('flow control', () => {
  it('write() returns false past the high-water mark and drain follows', () => {
    const sim = new Sim({ config: { sendBufferBytes: 10_000 } });
    expect(sim.a.write(new Uint8Array(6000), 0)).toBe(true);
    expect(sim.a.write(new Uint8Array(6000), 0)).toBe(false);
    expect(sim.a.bufferedBytes).toBe(12_000);
    sim.open();
    sim.run();
    expect(sim.types('a')).toEqual(['connected', 'drain']);
    expect(sim.a.bufferedBytes).toBe(0);
    expect(sim.ep.b.receivedBytes).toBe(12_000);
  });

  it('a writer that honours backpressure keeps the buffer near the mark', () => {
    const sim = new Sim({ config: { sendBufferBytes: 20_000 } });
    sim.send('a', payload(300_000, 17), { end: true, chunk: 4096 });
    let worst = 0;
    sim.open();
    sim.run({ until: () => ((worst = Math.max(worst, sim.a.bufferedBytes)), false) });
    expect(sim.ep.a.writeReturnedFalse).toBeGreaterThan(0);
    expect(worst).toBeLessThan(20_000 + 4096);
    expect(Buffer.compare(sim.received('b'), payload(300_000, 17))).toBe(0);
  });

  it('never sends past the advertised window; a stalled reader closes it and probes reopen it', () => {
    const buf = 4800;
    const sim = new Sim({ minDelay: 5, maxDelay: 5, configB: { receiveBufferBytes: buf } });
    const da = payload(40_000, 18);
    sim.send('a', da, { end: true });
    sim.open();
    sim.run({ until: () => sim.ep.b.conn !== undefined });
    sim.setPaused('b', true);
    // A minute of a stalled reader: far longer than maxRetries timeouts at the longest RTO
    // would last if the answered probes counted as failures.
    sim.run({ maxTime: 60_000 });
    // While b's application reads nothing, b holds at most its buffer. (The first segment rode
    // on the SYN and was read before the pause.)
    expect(sim.ep.b.receivedBytes).toBe(1200);
    // What b took in, from its latest acknowledgement (a's data starts at 1001).
    const acks = sim.wire.filter((w) => w.from === 'b' && w.seg.flags.ack).map((w) => w.seg.ack);
    const accepted = ((acks.at(-1)! - 1001) >>> 0) - 1200;
    expect(accepted).toBeLessThanOrEqual(buf);
    expect(accepted).toBeGreaterThan(buf - 1200);
    const zeroWindows = sim.wire.filter((w) => w.from === 'b' && w.seg.window === 0);
    expect(zeroWindows.length).toBeGreaterThan(0);
    // Probing went on while the window was closed, at most maxRtoMs apart, and no timeout
    // killed the connection.
    expect(sim.a.state).toBe('fin-wait');
    const probes = sim.wire.filter((w) => w.from === 'a' && w.seg.data.length === 1).map((w) => w.t);
    expect(probes.length).toBeGreaterThan(10);
    for (let i = 1; i < probes.length; i++) expect(probes[i]! - probes[i - 1]!).toBeLessThanOrEqual(4000);
    // Window rule: every data byte a sent lies within the last window b advertised (probes excepted).
    let una = 1001;
    let wnd = 0;
    for (const w of sim.wire) {
      if (w.from === 'b' && w.seg.flags.ack && w.delivered) {
        una = w.seg.ack;
        wnd = w.seg.window * WINDOW_SCALE;
      } else if (w.from === 'a' && w.seg.data.length > 1 && !w.seg.flags.syn) {
        expect(((w.seg.seq + w.seg.data.length - una) >>> 0) <= wnd).toBe(true);
      }
    }
    sim.setPaused('b', false);
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(sim.types('b').at(-1)).toBe('end');
  });
});

describe('a reader that takes no data (pollEvent with data: false)', () => {
  it('gets drain and connected but no data, end or closed, and its window closes', () => {
    // b writes to a while a's application only takes signals: a keeps the data, so its
    // advertised window shrinks to 0, b's send buffer fills and b sees write() return false.
    const buf = 9600;
    const sim = new Sim({ config: { receiveBufferBytes: buf, sendBufferBytes: 4000 }, configB: { sendBufferBytes: 4000 } });
    sim.open();
    sim.run({ until: () => sim.ep.b.conn !== undefined && sim.b.state === 'established' && sim.a.state === 'established' });
    const data = payload(30_000, 23);
    let bWroteFalse = false;
    for (let off = 0; off < data.length; off += 2000) if (!sim.b.write(data.subarray(off, off + 2000), sim.now)) bWroteFalse = true;
    sim.b.end(sim.now);
    expect(bWroteFalse).toBe(true);
    // Drive a by hand: take only signals, as the host does while Node's buffer is full.
    const seen: string[] = [];
    sim.setPaused('a', true);
    // a writes too, past its own mark: its 'drain' must reach it although it takes no data.
    expect(sim.a.write(new Uint8Array(12_000), sim.now)).toBe(false);
    const takeSignals = (): void => {
      for (let e = sim.a.pollEvent({ data: false }); e; e = sim.a.pollEvent({ data: false })) seen.push(e.type);
    };
    sim.run({ maxTime: 5000, until: () => (takeSignals(), false) });
    expect(seen).toEqual(['drain']);
    const fromA = sim.wire.filter((w) => w.from === 'a' && w.seg.flags.ack);
    expect(fromA.at(-1)!.seg.window).toBe(0);
    expect((fromA.at(-1)!.seg.ack - sim.wire.find((w) => w.from === 'b')!.seg.seq - 1) >>> 0).toBeLessThanOrEqual(buf);
    expect(sim.b.bufferedBytes).toBeGreaterThan(data.length - buf - 1);
    // Now a's application reads: the data comes out in order, the window reopens, b drains.
    sim.setPaused('a', false);
    sim.run();
    expect(Buffer.compare(sim.received('a'), data)).toBe(0);
    expect(sim.types('a')).toContain('end');
    expect(sim.ep.b.receivedBytes).toBe(12_000);
    expect(sim.types('b')).toContain('drain');
  });
});

describe('over a reliable carrier (reliableCarrier: true)', () => {
  const reliable = { reliableCarrier: true, mss: 16_000 };

  it('moves data both ways with no retransmission timer, no copy kept and a clean close', () => {
    const sim = new Sim({ config: reliable });
    const da = payload(500_000, 31);
    const db = payload(300_000, 32);
    sim.send('a', da, { end: true });
    sim.send('b', db, { end: true });
    let maxTimer = 0;
    sim.open();
    sim.run({
      until: () => {
        // Timers only for delayed ACKs: never a retransmission timeout.
        const t = sim.a.nextTimeout();
        if (t !== undefined) maxTimer = Math.max(maxTimer, t - sim.now);
        return false;
      },
    });
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(Buffer.compare(sim.received('a'), db)).toBe(0);
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
    expect(sim.a.stats.retransmissions + sim.b.stats.retransmissions).toBe(0);
    expect(maxTimer).toBeLessThanOrEqual(sim.a.config.ackDelayMs);
    // No lingering after close: nothing keeps the connections alive.
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.b.nextTimeout()).toBeUndefined();
  });

  it('keeps sent data until it is acknowledged, with no timer for it; bufferedBytes counts it', () => {
    const sim = new Sim({ config: { ...reliable, sendBufferBytes: 50_000 }, configB: { ...reliable, receiveBufferBytes: 64_000 } });
    sim.open();
    sim.run({ until: () => sim.ep.b.conn !== undefined && sim.b.state === 'established' && sim.a.state === 'established' });
    sim.run();
    sim.setPaused('b', true);
    expect(sim.a.write(new Uint8Array(40_000), sim.now)).toBe(true);
    sim.pump();
    // On the carrier but not acknowledged: still kept (a replaced carrier needs it), untimed.
    expect(sim.a.bufferedBytes).toBe(40_000);
    expect(sim.a.nextTimeout()).toBeUndefined();
    sim.run();
    expect(sim.a.bufferedBytes).toBe(0);
    // Past the 64 kB window the rest waits, and write() says so.
    expect(sim.a.write(new Uint8Array(80_000), sim.now)).toBe(false);
    expect(sim.a.bufferedBytes).toBeGreaterThanOrEqual(50_000);
  });

  it('a replaced carrier: everything unacknowledged goes out again, and the window with it', () => {
    // The carrier breaks in the middle of both transfers: every segment sent while it is down
    // (data and acknowledgements, both ways) is lost, and no timer brings anything back.
    let n = 0;
    const sim = new Sim({ config: reliable, drop: () => (++n > 12 && n <= 40) });
    const da = payload(600_000, 41);
    const db = payload(300_000, 42);
    sim.send('a', da, { end: true });
    sim.send('b', db, { end: true });
    sim.open();
    sim.run();
    expect(n).toBeGreaterThan(40);
    expect(sim.received('b').length).toBeLessThan(da.length);
    expect(sim.a.state).not.toBe('closed');
    // The host tells both ends that a new connection carries the association now.
    const before = sim.a.stats.retransmissions;
    sim.a.carrierReplaced(sim.now);
    sim.b.carrierReplaced(sim.now);
    sim.pump();
    sim.run();
    expect(sim.a.stats.retransmissions).toBeGreaterThan(before);
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(Buffer.compare(sim.received('a'), db)).toBe(0);
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
  });

  it('a stalled reader stops the writer; reading again sends a window update and drain follows', () => {
    const sim = new Sim({ config: { ...reliable, sendBufferBytes: 20_000 }, configB: { ...reliable, receiveBufferBytes: 48_000 } });
    const da = payload(400_000, 33);
    sim.send('a', da, { end: true, chunk: 8000 });
    sim.open();
    sim.run({ until: () => sim.ep.b.conn !== undefined });
    sim.setPaused('b', true);
    sim.run({ maxTime: 10_000 });
    // Everything stopped: no timer, a holds what the window did not take, b at most its buffer.
    expect(sim.a.nextTimeout()).toBeUndefined();
    expect(sim.ep.a.writeReturnedFalse).toBeGreaterThan(0);
    const acks = sim.wire.filter((w) => w.from === 'b' && w.seg.flags.ack);
    expect(acks.at(-1)!.seg.window).toBe(0);
    // (plus one segment that rode on the SYN and was read before the pause)
    expect(sim.ep.a.sent).toBeLessThan(48_000 + 20_000 + 8000 + 16_000 + 1);
    sim.setPaused('b', false);
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(sim.types('a')).toContain('drain');
  });
});

describe('sequence numbers', () => {
  it('wrap around 2^32 in both directions', () => {
    const da = payload(150_000, 19);
    const db = payload(150_000, 20);
    const sim = new Sim({ seed: 21, loss: 0.1, dup: 0.05, minDelay: 5, maxDelay: 30, issA: 0xffffffff - 40_000, issB: 0xffffffff });
    sim.send('a', da, { end: true });
    sim.send('b', db, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);
    expect(Buffer.compare(sim.received('a'), db)).toBe(0);
    expect(sim.a.state).toBe('closed');
    expect(sim.b.state).toBe('closed');
    // Both directions really crossed zero: high and low sequence numbers were both used.
    for (const side of ['a', 'b'] as const) {
      const seqs = dataSegments(sim, side).map((w) => w.seg.seq);
      expect(seqs.some((s) => s > 0xf0000000)).toBe(side === 'a');
      expect(seqs.some((s) => s < 200_000)).toBe(true);
    }
    // b's SYN+ACK sits at 0xffffffff, its first data byte at 0.
    expect(dataSegments(sim, 'b')[0]!.seg.seq).toBe(0);
  });
});

describe('stale connections', () => {
  it('a client answers an ACK for another connection with a reset carrying that ACK number', () => {
    const c = new StreamConnection({ localPort: 40000, remotePort: 22, initialSeq: 1000, role: 'client' });
    c.open(0);
    expect(c.pollSegment()).toMatchObject({ seq: 1000, flags: { syn: true } });
    c.handleSegment({ srcPort: 22, dstPort: 40000, seq: 777, ack: 424242, flags: { ...NO_FLAGS, ack: true }, window: 10, data: new Uint8Array(0) }, 1);
    expect(c.pollSegment()).toMatchObject({ seq: 424242, flags: { rst: true, ack: false } });
    expect(c.state).toBe('syn-sent');
    expect(c.pollEvent()).toBeUndefined();
  });

  it('a peer that restarted gets through: the old side takes that reset and lets go', () => {
    // b is established with an old client; a new client on the same port pair sends a SYN.
    const sim = new Sim();
    sim.open();
    sim.run();
    const fresh = new StreamConnection({ localPort: 40000, remotePort: 22, initialSeq: 90_000, role: 'client' });
    fresh.open(sim.now);
    const syn = fresh.pollSegment()!;
    sim.b.handleSegment(syn, sim.now);
    const challenge = sim.b.pollSegment()!;
    expect(challenge).toMatchObject({ flags: { ack: true, syn: false }, ack: 1001 });
    fresh.handleSegment(challenge, sim.now);
    const rst = fresh.pollSegment()!;
    expect(rst.flags.rst).toBe(true);
    sim.b.handleSegment(rst, sim.now);
    expect(sim.b.state).toBe('closed');
    expect(sim.b.pollEvent()).toEqual({ type: 'reset', reason: 'connection reset by peer' });
  });
});

describe('API misuse gives typed errors', () => {
  const base = { localPort: 1, remotePort: 2, initialSeq: 0, role: 'client' as const };
  it('rejects bad constructor arguments and config', () => {
    expect(errCode(() => new StreamConnection({ ...base, localPort: 65536 }))).toBe('ERR_STREAM_BAD_ARGUMENT');
    expect(errCode(() => new StreamConnection({ ...base, initialSeq: 2 ** 32 }))).toBe('ERR_STREAM_BAD_ARGUMENT');
    expect(errCode(() => new StreamConnection({ ...base, config: { mss: 0 } }))).toBe('ERR_STREAM_BAD_CONFIG');
    expect(errCode(() => new StreamConnection({ ...base, config: { maxRtoMs: 10, minRtoMs: 50 } }))).toBe('ERR_STREAM_BAD_CONFIG');
    expect(new StreamConnection({ ...base, config: { mss: undefined } }).config.mss).toBe(1200);
  });

  it('rejects open/accept in the wrong role and write after end', () => {
    const c = new StreamConnection(base);
    expect(errCode(() => c.accept({} as Segment, 0))).toBe('ERR_STREAM_BAD_STATE');
    c.open(0);
    expect(errCode(() => c.open(0))).toBe('ERR_STREAM_BAD_STATE');
    c.end(0);
    expect(errCode(() => c.write(new Uint8Array(1), 0))).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(errCode(() => c.write('x' as unknown as Uint8Array, 0))).toBe('ERR_STREAM_BAD_ARGUMENT');
    const s = new StreamConnection({ ...base, role: 'server' });
    expect(errCode(() => s.open(0))).toBe('ERR_STREAM_BAD_STATE');
    const notSyn: Segment = { srcPort: 2, dstPort: 1, seq: 0, ack: 0, flags: { ...NO_FLAGS, ack: true }, window: 0, data: new Uint8Array(0) };
    expect(errCode(() => s.accept(notSyn, 0))).toBe('ERR_STREAM_BAD_SEGMENT');
    expect(errCode(() => s.accept({ ...notSyn, flags: { ...NO_FLAGS, syn: true }, srcPort: 9 }, 0))).toBe('ERR_STREAM_BAD_SEGMENT');
  });

  it('ignores segments for another port pair and acknowledgements of unsent data', () => {
    const sim = new Sim();
    sim.open();
    sim.run();
    const before = sim.b.stats.segmentsReceived;
    sim.b.handleSegment({ srcPort: 1, dstPort: 22, seq: 0, ack: 0, flags: { ...NO_FLAGS, rst: true }, window: 0, data: new Uint8Array(0) }, sim.now);
    expect(sim.b.stats.segmentsReceived).toBe(before);
    // An ACK for bytes b never sent: dropped, b answers with its own ACK, nothing else changes.
    sim.b.handleSegment({ srcPort: 40000, dstPort: 22, seq: 1001, ack: 9999, flags: { ...NO_FLAGS, ack: true }, window: 100, data: new Uint8Array(5) }, sim.now);
    expect(sim.b.pollEvent()).toBeUndefined();
    expect(sim.b.pollSegment()).toMatchObject({ seq: 5001, ack: 1001, flags: { ack: true } });
    expect(sim.b.state).toBe('established');
  });
});
