/**
 * Peer loss in the in-memory network (issue 9): a peer that restarts with the same identity and
 * address knows nothing of the association and drops our packets silently. The sender notices
 * (data sent, nothing heard, a probe unanswered), forgets the association and reports
 * `peer-lost`; a live peer that is merely quiet answers the probe and is left alone.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/core/config.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const idA = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
const idB = HostIdentity.generate({ algorithm: 'ecdsa-p256' });

const OPTS: EngineOptions = { peerLossMs: 5000 };

function pair(seed: string, opts: EngineOptions = OPTS) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, opts);
  const b = net.addNode('b', idB, opts);
  const hitA = a.engine.localHit();
  const hitB = b.engine.localHit();
  a.engine.connect(hitB, [b.locator], net.now);
  net.run(net.now + 10_000);
  expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  net.log.length = 0;
  return { net, a, b, hitA, hitB };
}

/** `from` sends the peer data every `everyMs` for `forMs` (the driver reports each send). */
function sendData(net: SimNetwork, from: ReturnType<typeof pair>['a'], peer: Uint8Array, forMs: number, everyMs = 1000): void {
  const end = net.now + forMs;
  while (net.now < end) {
    from.engine.sent(peer, net.now);
    const next = net.now + everyMs;
    net.run(next);
    net.now = next;
  }
}

const updates = (net: SimNetwork) => net.log.filter((l) => l.packetType === PacketType.UPDATE);

describe('peer loss: a restarted peer that stays silent', () => {
  it('is probed once data goes unanswered for peerLossMs, and reported lost when the probe is not acknowledged', () => {
    const { net, a, b, hitB } = pair('lost');
    const heard = a.engine.association(hitB) && net.now;
    net.restart(b, idB, OPTS);
    sendData(net, a, hitB, 30_000);
    const lost = SimNetwork.eventsOf(a, 'peer-lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.locator.key).toBe('sim:b');
    expect(lost[0]!.version).toBe(2);
    // Last heard no later than the end of the BEX: everything sent since may be gone.
    expect(lost[0]!.lastHeard).toBeLessThanOrEqual(heard as number);
    expect(a.engine.association(hitB)).toBeUndefined();
    // The restarted peer dropped every probe (1 + LOSS_PROBE_RETRIES) and said nothing.
    expect(updates(net).map((u) => `${u.from}>${u.to}`)).toEqual(['a>b', 'a>b', 'a>b', 'a>b']);
    expect(SimNetwork.eventsOf(a, 'closed')).toEqual([]);
    // A new BEX reaches the restarted peer.
    a.engine.connect(hitB, [b.locator], net.now);
    net.run(net.now + 10_000);
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  });

  it('a live peer that only receives answers the probe and is left alone', () => {
    const { net, a, hitB } = pair('quiet');
    const seen: { from: string; seq: boolean; ack: boolean; echo: 'request' | 'response' | undefined }[] = [];
    net.hook = (t, from) => {
      if (t.packetType === PacketType.UPDATE) {
        const p = parsePacket(t.packet);
        const echo = getParam(p, ParamType.ECHO_REQUEST_SIGNED) ? 'request' : getParam(p, ParamType.ECHO_RESPONSE_SIGNED) ? 'response' : undefined;
        seen.push({ from: from.name, seq: !!getParam(p, ParamType.SEQ), ack: !!getParam(p, ParamType.ACK), echo });
      }
      return t.packet;
    };
    sendData(net, a, hitB, 60_000);
    // The probe is SEQ + ECHO_REQUEST_SIGNED; the answer ACK + ECHO_RESPONSE_SIGNED.
    expect(seen[0]).toEqual({ from: 'a', seq: true, ack: false, echo: 'request' });
    expect(seen[1]).toEqual({ from: 'b', seq: false, ack: true, echo: 'response' });
    expect(SimNetwork.eventsOf(a, 'peer-lost')).toEqual([]);
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
    // One probe and its ACK per peerLossMs of one-way sending, not more.
    const probes = updates(net).filter((u) => u.from === 'a');
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.length).toBeLessThanOrEqual(60_000 / 5000);
    expect(updates(net).filter((u) => u.from === 'b')).toHaveLength(probes.length);
  });

  it('a peer that talks back is never probed', () => {
    const { net, a, b, hitA, hitB } = pair('talks');
    for (let t = 0; t < 30; t++) {
      a.engine.sent(hitB, net.now);
      b.engine.sent(hitA, net.now);
      // Each side's data reaches the other (the driver reports authentic ESP).
      a.engine.received(hitB, b.locator, 100, net.now + 1);
      b.engine.received(hitA, a.locator, 100, net.now + 1);
      const next = net.now + 1000;
      net.run(next);
      net.now = next;
    }
    expect(updates(net)).toEqual([]);
  });

  it('with nothing sent, a silent restarted peer is not probed (nothing to lose)', () => {
    const { net, a, b, hitB } = pair('idle');
    net.restart(b, idB, OPTS);
    net.run(net.now + 60_000);
    expect(updates(net)).toEqual([]);
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  });

  it('peerLossMs 0 turns it off', () => {
    const { net, a, b, hitB } = pair('off', { peerLossMs: 0 });
    net.restart(b, idB, { peerLossMs: 0 });
    sendData(net, a, hitB, 30_000);
    expect(updates(net)).toEqual([]);
    expect(SimNetwork.eventsOf(a, 'peer-lost')).toEqual([]);
  });

  it('a lost probe is retransmitted: 25 % loss does not make a live peer lost', () => {
    const { net, a, hitB } = pair('lossy');
    net.impairments = { loss: 0.25 };
    sendData(net, a, hitB, 60_000);
    expect(SimNetwork.eventsOf(a, 'peer-lost')).toEqual([]);
    expect(updates(net).some((u) => u.dropped)).toBe(true);
  });
});
