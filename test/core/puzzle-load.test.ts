/**
 * Issue 8 item 8 (responder): K adapts to load (RFC 7401 §4.1.1) and, under load, an I1 cannot
 * choose a MODP group.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const idB = HostIdentity.generate();
const initiators = Array.from({ length: 8 }, () => HostIdentity.generate());

function loadedResponder(seed: string, opts: object = {}) {
  const net = new SimNetwork(seed);
  const b = net.addNode('b', idB, { puzzle: { loadThreshold: 5, maxAdaptiveDifficulty: 6 }, ...opts });
  const ks: number[] = [];
  net.hook = (t) => {
    if (t.packetType === PacketType.R1) ks.push(getParam(parsePacket(t.packet), ParamType.PUZZLE)!.k);
    return t.packet;
  };
  return { net, b, ks };
}

describe('puzzle difficulty under load', () => {
  it('rises when I2s crowd in, the crowd still completes, and falls back when it is quiet', () => {
    const { net, b, ks } = loadedResponder('load');
    const nodes = initiators.map((id, i) => net.addNode(`c${i}`, id));
    for (const n of nodes) n.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(8); // old-generation I2s stay valid
    expect(ks.every((k) => k === 1)).toBe(true);

    const late = net.addNode('late', HostIdentity.generate());
    late.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(ks.at(-1)).toBe(3); // five DH computations in one second: K + 2

    net.now += 5000; // quiet seconds lower K one bit each
    const calm = net.addNode('calm', HostIdentity.generate());
    calm.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(ks.at(-1)).toBe(1);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(10);
  });

  it('stays put with adaptive: false', () => {
    const { net, b, ks } = loadedResponder('fixed', { puzzle: { loadThreshold: 5, adaptive: false } });
    for (const [i, id] of initiators.entries()) net.addNode(`c${i}`, id).engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    const late = net.addNode('late', HostIdentity.generate());
    late.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(new Set(ks)).toEqual(new Set([1]));
  });

  it('under load an I1 offering only MODP groups gets no R1; when calm it does', () => {
    const { net, b } = loadedResponder('modp');
    for (const [i, id] of initiators.entries()) net.addNode(`c${i}`, id).engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    const modp = net.addNode('modp', HostIdentity.generate(), { dhGroups: [3] });
    modp.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(SimNetwork.eventsOf(b, 'dropped').filter((d) => d.reason === 'negotiation')).toHaveLength(1);
    modp.engine.close(idB.hit(), net.now);
    net.now += 5000;
    modp.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(SimNetwork.eventsOf(modp, 'established')).toHaveLength(1);
  });
});
