// The checks of CLOSE, CLOSE_ACK and NOTIFY handling (RFC 7401 §5.3.5-5.3.8, §6.14), each with a
// test that fails when the check is removed (issue 8). Cheap checks come before the MAC and the
// signature, so the drop reason tells which check fired: a forged packet that reached the MAC
// would be counted as bad-mac instead.
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();

function drops(n: SimNode, reason: string): number {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;
}

function rewrite(bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  return emitPacket(p);
}

/** A and B established; every packet sent is recorded by type, and withheld while `hold` is set. */
function established(seed: string) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA);
  const b = net.addNode('b', idB);
  const sent = new Map<number, Uint8Array[]>();
  const ctl = { hold: new Set<number>() };
  net.hook = (t) => {
    sent.set(t.packetType, [...(sent.get(t.packetType) ?? []), t.packet.slice()]);
    return ctl.hold.has(t.packetType) ? undefined : t.packet;
  };
  a.engine.connect(idB.hit(), [b.locator], net.now);
  net.run();
  expect(a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
  expect(b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
  return { net, a, b, sent, ctl };
}

/** A CLOSE from A to B that B never saw (withheld on the wire). */
function withheldClose(seed: string) {
  const s = established(seed);
  s.ctl.hold.add(PacketType.CLOSE);
  s.a.engine.close(idB.hit(), s.net.now);
  s.net.flush();
  const close = s.sent.get(PacketType.CLOSE)![0]!;
  return { ...s, close };
}

describe('CLOSE', () => {
  const forgeries: [string, string, (p: HipPacket) => void][] = [
    ['another receiver HIT', 'wrong-receiver-hit', (p) => void (p.receiverHit = idA.hit())],
    ['control bits set', 'controls', (p) => void (p.controls = 0x0001)],
    ['no ECHO_REQUEST_SIGNED', 'missing-parameter', (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.ECHO_REQUEST_SIGNED))],
    ['no HIP_MAC', 'missing-parameter', (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.HIP_MAC))],
    ['no HIP_SIGNATURE', 'missing-parameter', (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.HIP_SIGNATURE))],
    ['a changed echo nonce', 'bad-mac', (p) => {
      const e = getParam(p, ParamType.ECHO_REQUEST_SIGNED)!;
      e.opaque = e.opaque.map((x) => x ^ 1);
    }],
  ];
  for (const [name, reason, change] of forgeries) {
    it(`a CLOSE with ${name} is dropped (${reason}); nothing is acknowledged or closed`, () => {
      const { net, a, b, close } = withheldClose(`close-${name}`);
      net.inject(b, rewrite(close, change), a);
      expect(drops(b, reason)).toBe(1);
      expect(b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
      expect(SimNetwork.eventsOf(b, 'closed')).toHaveLength(0);
      expect(b.engine.stats.sent).toBe(2); // R1 and R2 only: no CLOSE_ACK
    });
  }

  it('a HIPv2 CLOSE carries a 16-byte echo nonce', () => {
    const { close } = withheldClose('close-nonce');
    expect(getParam(parsePacket(close), ParamType.ECHO_REQUEST_SIGNED)!.opaque).toHaveLength(16);
  });

  it('a HIPv1 CLOSE carries a 4-byte echo nonce, as libhipl sends and expects', () => {
    const net = new SimNetwork('close-nonce-v1');
    const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const a = net.addNode('a', rsaA, { version: 1 });
    const b = net.addNode('b', rsaB);
    let close: Uint8Array | undefined;
    net.hook = (t) => (t.packetType === PacketType.CLOSE && (close ??= t.packet.slice()), t.packet);
    a.engine.connect(rsaB.hit(1), [b.locator], net.now);
    net.run();
    expect(a.engine.association(rsaB.hit(1))?.state).toBe('ESTABLISHED');
    a.engine.close(rsaB.hit(1), net.now);
    net.run();
    expect(getParam(parsePacket(close!), ParamType.ECHO_REQUEST_SIGNED)!.opaque).toHaveLength(4);
    expect(SimNetwork.eventsOf(b, 'closed')).toHaveLength(1);
  });

  it('a CLOSE with a bad signature (valid MAC) is dropped as bad-signature', () => {
    const { net, a, b, close } = withheldClose('close-sig');
    // Flip a signature byte: the signature is not covered by the HIP_MAC before it... but is
    // by nothing after it, so only the signature check can catch it.
    net.inject(b, rewrite(close, (p) => {
      const s = getParam(p, ParamType.HIP_SIGNATURE)!;
      s.signature = s.signature.map((x, i) => (i === 3 ? x ^ 1 : x));
    }), a);
    expect(drops(b, 'bad-signature')).toBe(1);
    expect(b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
  });

  it('a CLOSE of another HIP version is wrong-state', () => {
    const { net, a, b, close } = withheldClose('close-version');
    net.inject(b, rewrite(close, (p) => void (p.version = 1)), a);
    expect(drops(b, 'wrong-state')).toBe(1);
    expect(b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
  });

  it('a CLOSE for an association still in I1-SENT is wrong-state', () => {
    const { close } = withheldClose('close-i1');
    const net = new SimNetwork('close-i1-2');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = () => undefined;
    b.engine.connect(idA.hit(), [a.locator], net.now);
    net.flush();
    expect(b.engine.association(idA.hit())?.state).toBe('I1-SENT');
    net.inject(b, close, a);
    expect(drops(b, 'wrong-state')).toBe(1);
    expect(b.engine.association(idA.hit())?.state).toBe('I1-SENT');
  });

  it('the genuine CLOSE is acknowledged once per copy, but reported closed once; the linger timer then frees it', () => {
    const { net, a, b, close } = withheldClose('close-twice');
    net.inject(b, close, a);
    expect(b.engine.association(idA.hit())?.state).toBe('CLOSED');
    net.inject(b, close, a); // a retransmission: our CLOSE_ACK was lost
    expect(b.engine.stats.sent).toBe(4); // R1, R2, two CLOSE_ACKs
    expect(SimNetwork.eventsOf(b, 'closed')).toEqual([{ type: 'closed', peerHit: idA.hit(), by: 'peer' }]);
    net.run();
    expect(b.engine.association(idA.hit())).toBeUndefined();
  });

  it('simultaneous CLOSEs: each side discards at once and reports the peer closed it', () => {
    const { net, a, b } = established('close-both');
    a.engine.close(idB.hit(), net.now);
    b.engine.close(idA.hit(), net.now);
    net.run();
    for (const [n, peer] of [[a, idB], [b, idA]] as const) {
      expect(n.engine.association(peer.hit())).toBeUndefined();
      expect(SimNetwork.eventsOf(n, 'closed').map((e) => e.by)).toEqual(['peer']);
    }
  });
});

describe('CLOSE_ACK', () => {
  /** A has sent CLOSE, B answered; the CLOSE_ACK is withheld from A. */
  function withheldAck(seed: string) {
    const s = established(seed);
    s.ctl.hold.add(PacketType.CLOSE_ACK);
    s.a.engine.close(idB.hit(), s.net.now);
    s.net.run(s.net.now + 10);
    const ack = s.sent.get(PacketType.CLOSE_ACK)![0]!;
    expect(s.a.engine.association(idB.hit())?.state).toBe('CLOSING');
    return { ...s, ack };
  }

  const forgeries: [string, string, (p: HipPacket) => void][] = [
    ['another receiver HIT', 'wrong-receiver-hit', (p) => void (p.receiverHit = idB.hit())],
    ['another HIP version', 'wrong-state', (p) => void (p.version = 1)],
    ['no echo', 'bad-echo', (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.ECHO_RESPONSE_SIGNED))],
    ['no HIP_MAC', 'missing-parameter', (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.HIP_MAC))],
    ['a damaged HIP_MAC', 'bad-mac', (p) => {
      const m = getParam(p, ParamType.HIP_MAC)!;
      m.mac = m.mac.map((x) => x ^ 1);
    }],
  ];
  for (const [name, reason, change] of forgeries) {
    it(`a CLOSE_ACK with ${name} is dropped (${reason}); the association stays CLOSING`, () => {
      const { net, a, b, ack } = withheldAck(`ack-${name}`);
      net.inject(a, rewrite(ack, change), b);
      expect(drops(a, reason)).toBe(1);
      expect(a.engine.association(idB.hit())?.state).toBe('CLOSING');
      expect(SimNetwork.eventsOf(a, 'closed')).toHaveLength(0);
    });
  }

  it('a CLOSE_ACK while ESTABLISHED (nothing was closed) is wrong-state', () => {
    const { ack } = withheldAck('ack-state');
    const { net, a, b } = established('ack-state');
    net.inject(a, ack, b);
    expect(drops(a, 'wrong-state')).toBe(1);
    expect(a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
  });

  it('the genuine CLOSE_ACK frees the association and reports a local close', () => {
    const { net, a, b, ack } = withheldAck('ack-ok');
    net.inject(a, ack, b);
    expect(a.engine.association(idB.hit())).toBeUndefined();
    expect(SimNetwork.eventsOf(a, 'closed').map((e) => e.by)).toEqual(['local']);
  });
});

describe('NOTIFY', () => {
  it('a NOTIFY from the peer of an association is reported once, and a damaged signature drops it', () => {
    const net = new SimNetwork('notify');
    const a = net.addNode('a', idA);
    // B's policy refuses A after A proved its identity: the one NOTIFY B signs (error replies
    // to peers that have not proven theirs are unsigned, and A drops those once it knows B's key).
    const b = net.addNode('b', idB, { policy: [] });
    let notify: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType === PacketType.NOTIFY) {
        notify ??= t.packet.slice();
        return undefined;
      }
      return t.packet;
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 10);
    expect(notify).toBeDefined();
    const sig = getParam(parsePacket(notify!), ParamType.HIP_SIGNATURE);
    expect(sig).toBeDefined();
    if (sig) {
      net.inject(a, rewrite(notify!, (p) => {
        const s = getParam(p, ParamType.HIP_SIGNATURE)!;
        s.signature = s.signature.map((x, i) => (i === 7 ? x ^ 1 : x));
      }), b);
      expect(drops(a, 'bad-signature')).toBe(1);
      expect(SimNetwork.eventsOf(a, 'notify')).toHaveLength(0);
    }
    // Without its signature it is dropped too, saying why (A knows B's key by now).
    net.inject(a, rewrite(notify!, (p) => void (p.params = p.params.filter((x) => x.type !== ParamType.HIP_SIGNATURE))), b);
    expect(SimNetwork.eventsOf(a, 'dropped').filter((d) => d.reason === 'missing-parameter').map((d) => d.detail)).toEqual([
      'unsigned NOTIFY from a peer whose key we know',
    ]);
    expect(SimNetwork.eventsOf(a, 'notify')).toHaveLength(0);
    net.inject(a, notify!, b);
    const seen = SimNetwork.eventsOf(a, 'notify');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.notifyType).toBe(getParam(parsePacket(notify!), ParamType.NOTIFICATION)!.notifyType);
  });
});
