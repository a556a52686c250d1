/** Negotiation details: NAT mode, HIPv1 duplicate-I2 silence, insecure suites only when allowed. */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const ecA = HostIdentity.generate();
const ecB = HostIdentity.generate();

describe('negotiation profiles', () => {
  it('NAT mode: the R1 offers UDP-ENCAPSULATION and the I2 selects it', () => {
    const net = new SimNetwork('nat');
    const a = net.addNode('a', ecA, { natMode: true });
    const b = net.addNode('b', ecB, { natMode: true });
    const modes: Record<number, number[]> = {};
    net.hook = (t) => {
      const nat = getParam(parsePacket(t.packet), ParamType.NAT_TRAVERSAL_MODE);
      if (nat) modes[t.packetType] = nat.modes;
      return t.packet;
    };
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    expect(modes).toEqual({ [PacketType.R1]: [1], [PacketType.I2]: [1] });
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });

  it('without NAT mode no NAT_TRAVERSAL_MODE is sent', () => {
    const net = new SimNetwork('nonat');
    const a = net.addNode('a', ecA);
    const b = net.addNode('b', ecB);
    let seen = false;
    net.hook = (t) => ((seen ||= getParam(parsePacket(t.packet), ParamType.NAT_TRAVERSAL_MODE) !== undefined), t.packet);
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    expect(seen).toBe(false);
  });

  it('HIPv1: a retransmitted I2 draws no duplicate R2 (libhipl would take it for data)', () => {
    const net = new SimNetwork('v1dup');
    const a = net.addNode('a', rsaA, { version: 1 });
    const b = net.addNode('b', rsaB);
    let i2: Uint8Array | undefined;
    net.hook = (t) => (t.packetType === PacketType.I2 && (i2 = t.packet), t.packet);
    a.engine.connect(rsaB.hit(1), [b.locator], 0);
    net.run();
    const r2sBefore = net.log.filter((l) => l.packetType === PacketType.R2).length;
    net.inject(b, i2!, a);
    net.run();
    expect(net.log.filter((l) => l.packetType === PacketType.R2).length).toBe(r2sBefore);
    expect(SimNetwork.eventsOf(b, 'dropped').some((d) => d.reason === 'duplicate')).toBe(true);
  });

  it('HIPv2: a retransmitted I2 is answered with the same R2', () => {
    const net = new SimNetwork('v2dup');
    const a = net.addNode('a', ecA);
    const b = net.addNode('b', ecB);
    const r2s: string[] = [];
    let i2: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType === PacketType.I2) i2 = t.packet;
      if (t.packetType === PacketType.R2) r2s.push(Buffer.from(t.packet).toString('hex'));
      return t.packet;
    };
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    net.inject(b, i2!, a);
    expect(r2s).toHaveLength(2);
    expect(r2s[1]).toBe(r2s[0]);
  });

  it('HIPv2: once the initiator has sent authenticated traffic the R2 is let go; a late I2 copy is still only a duplicate', () => {
    const net = new SimNetwork('v2late');
    const a = net.addNode('a', ecA);
    const b = net.addNode('b', ecB);
    let r2s = 0;
    let i2: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType === PacketType.I2) i2 = t.packet;
      if (t.packetType === PacketType.R2) r2s++;
      return t.packet;
    };
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run(5_000); // before the R2-SENT dwell (10 s) ends it by itself
    expect(b.engine.association(ecA.hit())?.state).toBe('R2-SENT');
    // The initiator's first ESP packet (the host reports it as touch): it has our R2.
    b.engine.touch(ecA.hit(), net.now);
    expect(b.engine.association(ecA.hit())?.state).toBe('ESTABLISHED');
    const spi = b.engine.association(ecA.hit())?.sa?.localSpi;
    // The same I2 again, with its checksum field changed (the duplicate check ignores it).
    const copy = i2!.slice();
    copy[4]! ^= 0xff;
    net.inject(b, copy, a);
    net.run(net.now + 1_000);
    expect(r2s).toBe(1);
    expect(SimNetwork.eventsOf(b, 'dropped').filter((d) => d.reason === 'duplicate')).toHaveLength(1);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
    expect(b.engine.association(ecA.hit())?.sa?.localSpi).toBe(spi);
  });

  it('an I2 that differs from the one that made the association in any byte but the checksum is not taken for a copy', () => {
    const net = new SimNetwork('v2other');
    const a = net.addNode('a', ecA);
    const b = net.addNode('b', ecB);
    let i2: Uint8Array | undefined;
    net.hook = (t) => (t.packetType === PacketType.I2 && (i2 = t.packet), t.packet);
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    const changed = i2!.slice();
    changed[changed.length - 1]! ^= 1; // inside the signature: a different packet, refused on its own merits
    net.inject(b, changed, a);
    net.run();
    const reasons = SimNetwork.eventsOf(b, 'dropped').map((d) => d.reason);
    expect(reasons).not.toContain('duplicate');
    expect(reasons.length).toBeGreaterThan(0);
  });

  it('NULL encryption (ESP 7) is never negotiated unless allowInsecure is set on both ends', () => {
    const net = new SimNetwork('null');
    // Listing only NULL without allowInsecure offers nothing: refused at creation.
    expect(() => net.addNode('x', ecA, { espSuites: [7] })).toThrow(expect.objectContaining({ code: 'ERR_HIP_BAD_OPTION' }));
    const a = net.addNode('a', ecA, { espSuites: [7, 8] });
    const b = net.addNode('b', ecB, { espSuites: [7, 13] });
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed')[0]?.reason).toBe('no-common-esp-transform');

    const net2 = new SimNetwork('null2');
    const c = net2.addNode('c', ecA, { espSuites: [7], allowInsecure: true });
    const d = net2.addNode('d', ecB, { espSuites: [7, 13], allowInsecure: true });
    c.engine.connect(ecB.hit(), [d.locator], 0);
    net2.run();
    expect(SimNetwork.eventsOf(c, 'established')[0]?.sa.suite).toBe(7);
  });
});

describe('puzzle limits', () => {
  it('an initiator refuses to solve a puzzle above its maxDifficulty', () => {
    const net = new SimNetwork('maxk');
    const a = net.addNode('a', ecA, { puzzle: { maxDifficulty: 8 } });
    const b = net.addNode('b', ecB);
    b.engine.setPuzzleDifficulty(9, 0);
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    const f = SimNetwork.eventsOf(a, 'failed')[0];
    expect(f?.reason).toBe('puzzle-unsolved');
    expect(f?.detail).toMatch(/difficulty 9 is above our limit 8/);
  });

  it('a puzzle at the limit is solved and accepted', () => {
    const net = new SimNetwork('atk');
    const a = net.addNode('a', ecA, { puzzle: { maxDifficulty: 8 } });
    const b = net.addNode('b', ecB);
    b.engine.setPuzzleDifficulty(8, 0);
    a.engine.connect(ecB.hit(), [b.locator], 0);
    net.run();
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });
});
