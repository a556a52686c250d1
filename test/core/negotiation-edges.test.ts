// Negotiation in the base exchange where the two sides do not fit (RFC 7401 §6.8, §6.9;
// HIPv1: RFC 5201 §6.8): what the initiator refuses in an R1 and the responder in an I2, in
// both protocol versions, and that the NULL suites stay out of a negotiation unless allowed.
// Some R1s a correct responder never builds (no HIT suite of ours, no ESP transport format, a
// group the initiator did not offer): those are built here and signed with the responder's own key, as a buggy
// or hostile responder holding that key would send them.
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { EngineOptions } from '../../src/core/config.js';
import type { LocalSide } from '../../src/core/context.js';
import type { HipEngine } from '../../src/core/engine.js';
import { sealPacket } from '../../src/core/sealing.js';
import { getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const ecA = HostIdentity.generate();
const ecB = HostIdentity.generate();
const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });

function drops(n: SimNode, reason: string) {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason);
}

/** Run a BEX from a to b; every packet is recorded by type. */
function bex(seed: string, version: 1 | 2, optsA: EngineOptions, optsB: EngineOptions, change?: (type: number, bytes: Uint8Array) => Uint8Array) {
  const [idA, idB] = version === 1 ? [rsaA, rsaB] : [ecA, ecB];
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, { version, ...optsA });
  const b = net.addNode('b', idB, optsB);
  const sent = new Map<number, HipPacket[]>();
  net.hook = (t) => {
    const bytes = change ? change(t.packetType, t.packet) : t.packet;
    sent.set(t.packetType, [...(sent.get(t.packetType) ?? []), parsePacket(bytes.slice())]);
    return bytes;
  };
  a.engine.connect(idB.hit(version), [b.locator], net.now);
  net.run(net.now + 60_000);
  const failed = SimNetwork.eventsOf(a, 'failed');
  const established = SimNetwork.eventsOf(a, 'established');
  return { net, a, b, sent, failed, established, first: (type: number) => sent.get(type)?.[0] };
}

describe('HIPv1 negotiation', () => {
  it('NULL transforms are neither offered by the responder nor chosen by the initiator without allowInsecure', () => {
    // B offers NULL (allowed there); A lists NULL first but does not allow it: A picks the real one.
    const picked = bex('v1-null-choice', 1, { hipTransformsV1: [5, 1], espSuitesV1: [7, 1] }, { allowInsecure: true, hipTransformsV1: [5, 1], espSuitesV1: [7, 1] });
    expect(picked.established).toHaveLength(1);
    const i2 = picked.first(PacketType.I2)!;
    expect(getParam(i2, ParamType.HIP_TRANSFORM)!.suites).toEqual([1]);
    expect(getParam(i2, ParamType.ESP_TRANSFORM)!.suites).toEqual([1]);
    expect(picked.established[0]!.sa.suite).toBe(1);

    // B lists NULL but does not allow it: its R1 does not offer it, though A would take it.
    const offered = bex('v1-null-offer', 1, { allowInsecure: true, hipTransformsV1: [5, 1], espSuitesV1: [7, 1] }, { hipTransformsV1: [5, 1], espSuitesV1: [7, 1] });
    const r1 = offered.first(PacketType.R1)!;
    expect(getParam(r1, ParamType.HIP_TRANSFORM)!.suites).toEqual([1]);
    expect(getParam(r1, ParamType.ESP_TRANSFORM)!.suites).toEqual([1]);
    expect(offered.established[0]!.sa.suite).toBe(1);

    // Both allow it: NULL is what B lists first, and what A takes.
    const both = bex('v1-null-both', 1, { allowInsecure: true, hipTransformsV1: [5, 1], espSuitesV1: [7, 1] }, { allowInsecure: true, hipTransformsV1: [5, 1], espSuitesV1: [7, 1] });
    expect(getParam(both.first(PacketType.I2)!, ParamType.HIP_TRANSFORM)!.suites).toEqual([5]);
    expect(both.established[0]!.sa.suite).toBe(7);
  });

  const misfits: [string, EngineOptions, EngineOptions, string][] = [
    ['no common DH group', { dhGroupsV1: [3] }, { dhGroupsV1: [4] }, 'no-common-dh-group'],
    ['no common HIP transform', { hipTransformsV1: [1] }, { hipTransformsV1: [2] }, 'no-common-cipher'],
    ['no common ESP transform', { espSuitesV1: [1] }, { espSuitesV1: [8] }, 'no-common-esp-transform'],
  ];
  for (const [name, optsA, optsB, reason] of misfits) {
    it(`an R1 with ${name} fails the BEX (${reason}) without an I2`, () => {
      const s = bex(`v1-${reason}`, 1, optsA, optsB);
      expect(s.failed.map((f) => f.reason)).toEqual([reason]);
      expect(s.sent.get(PacketType.I2)).toBeUndefined();
    });
  }

  it('the v1 R1 uses the first group of dhGroupsV1', () => {
    const s = bex('v1-group', 1, { dhGroupsV1: [4, 3] }, { dhGroupsV1: [4, 3] });
    expect(getParam(s.first(PacketType.R1)!, ParamType.DIFFIE_HELLMAN)!.values.map((v) => v.group)).toEqual([4]);
    expect(s.established).toHaveLength(1);
  });

  it('a v1 I2 choosing a NULL transform the responder did not allow is dropped (negotiation)', () => {
    const nullHip = (type: number, bytes: Uint8Array) => {
      if (type !== PacketType.I2) return bytes;
      const p = parsePacket(bytes.slice());
      getParam(p, ParamType.HIP_TRANSFORM)!.suites = [5];
      return reemit(p);
    };
    const s = bex('v1-i2-null', 1, { allowInsecure: true, hipTransformsV1: [5, 1] }, { hipTransformsV1: [1, 5] }, nullHip);
    const n = drops(s.b, 'negotiation');
    expect(n.length).toBeGreaterThanOrEqual(1);
    expect(n[0]!.detail).toBe('HIP cipher not offered');
    expect(s.b.engine.associationCount).toBe(0);
  });

  it('a v1 I2 choosing the NULL ESP transform the responder did not allow is dropped (negotiation)', () => {
    const nullEsp = (type: number, bytes: Uint8Array) => {
      if (type !== PacketType.I2) return bytes;
      const p = parsePacket(bytes.slice());
      getParam(p, ParamType.ESP_TRANSFORM)!.suites = [7];
      return reemit(p);
    };
    const s = bex('v1-i2-null-esp', 1, { allowInsecure: true, espSuitesV1: [7, 1] }, { espSuitesV1: [1, 7] }, nullEsp);
    const n = drops(s.b, 'negotiation');
    expect(n.length).toBeGreaterThanOrEqual(1);
    expect(n[0]!.detail).toBe('ESP transform not offered');
    expect(s.b.engine.associationCount).toBe(0);
  });
});

/** A packet re-emitted with a changed parameter (MAC and signature stay as they were). */
function reemit(p: HipPacket): Uint8Array {
  return sealPacket(nodeCrypto, p, undefined, undefined);
}

/** Our side of an engine, with its signing key: what a responder holding the key signs with. */
function sideOf(engine: HipEngine, version: 1 | 2): LocalSide {
  return (engine as unknown as { local(v: 1 | 2): LocalSide }).local(version);
}

/** An R1 from `b` changed by `change` and signed again with b's key. */
function resignedR1(b: SimNode, bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  p.params = p.params.filter((x) => x.type !== ParamType.HIP_SIGNATURE_2);
  const me = sideOf(b.engine, p.version);
  return sealPacket(nodeCrypto, p, undefined, { type: ParamType.HIP_SIGNATURE_2, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm });
}

describe('HIPv2 NULL suites', () => {
  it('a responder that lists NULL without allowing it does not offer it, though the initiator would take it', () => {
    const s = bex('v2-null-offer', 2, { allowInsecure: true, hipCiphers: [1, 2], espSuites: [7, 13] }, { hipCiphers: [1, 2], espSuites: [7, 13] });
    const r1 = s.first(PacketType.R1)!;
    expect(getParam(r1, ParamType.HIP_CIPHER)!.ciphers).toEqual([2]);
    expect(getParam(r1, ParamType.ESP_TRANSFORM)!.suites).toEqual([13]);
    expect(s.established[0]!.sa.suite).toBe(13);
  });
});

describe('HIPv2 R1s the initiator refuses', () => {
  function refused(seed: string, change: (p: HipPacket) => void) {
    const net = new SimNetwork(seed);
    const a = net.addNode('a', ecA);
    const b = net.addNode('b', ecB);
    const i2s: Uint8Array[] = [];
    net.hook = (t) => {
      if (t.packetType === PacketType.I2) i2s.push(t.packet);
      return t.packetType === PacketType.R1 ? resignedR1(b, t.packet, change) : t.packet;
    };
    a.engine.connect(ecB.hit(), [b.locator], net.now);
    net.run(net.now + 60_000);
    return { a, b, i2s, failed: SimNetwork.eventsOf(a, 'failed') };
  }

  it('a re-signed but unchanged R1 is accepted (the helper signs as the responder does)', () => {
    const s = refused('r1-resigned', () => undefined);
    expect(s.failed).toEqual([]);
    expect(SimNetwork.eventsOf(s.a, 'established')).toHaveLength(1);
  });

  it('no HIT suite of ours in HIT_SUITE_LIST: unsupported-hit-suite', () => {
    const s = refused('r1-hit-suite', (p) => void (getParam(p, ParamType.HIT_SUITE_LIST)!.suites = [0x10 === ecA.hitSuite << 4 ? 0x20 : 0x10]));
    expect(s.failed.map((f) => f.reason)).toEqual(['unsupported-hit-suite']);
    expect(s.i2s).toHaveLength(0);
  });

  it('no ESP in TRANSPORT_FORMAT_LIST: no-common-esp-transform, naming the format', () => {
    const s = refused('r1-format', (p) => void (getParam(p, ParamType.TRANSPORT_FORMAT_LIST)!.formats = [ParamType.ESP_INFO]));
    expect(s.failed.map((f) => [f.reason, f.detail])).toEqual([['no-common-esp-transform', 'no ESP transport format']]);
    expect(s.i2s).toHaveLength(0);
  });

  it('no common HIP cipher or ESP suite: no-common-cipher, no-common-esp-transform', () => {
    const c = bex('v2-cipher', 2, { hipCiphers: [2] }, { hipCiphers: [4] });
    expect(c.failed.map((f) => f.reason)).toEqual(['no-common-cipher']);
    const e = bex('v2-esp', 2, { espSuites: [13] }, { espSuites: [8] });
    expect(e.failed.map((f) => f.reason)).toEqual(['no-common-esp-transform']);
    expect(e.sent.get(PacketType.I2)).toBeUndefined();
  });

  it('a DH group the initiator did not offer: dh-downgrade, naming the lists', () => {
    const s = refused('r1-unoffered-group', (p) => {
      const dh = getParam(p, ParamType.DIFFIE_HELLMAN)!;
      dh.values = [{ ...dh.values[0]!, group: 99 }];
      getParam(p, ParamType.DH_GROUP_LIST)!.groups = [99, 7];
    });
    expect(s.failed.map((f) => f.reason)).toEqual(['dh-downgrade']);
    expect(s.failed[0]!.detail).toBe('R1 used group 99, its list 99,7, we offered 7,8,3,11,4');
  });
});
