/**
 * Issue 8 item 7: the bytes a MAC or signature does not cover are checked too. A second
 * HIP_SIGNATURE, a signature whose Algorithm field is not the signer's HI algorithm, and
 * non-zero padding are refused (RFC 7401 §5.2).
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();

const drops = (n: SimNode, reason: string) => SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason);

function tamperFirst(net: SimNetwork, type: number, change: (p: HipPacket) => void, checkOrder = true): void {
  let done = false;
  net.hook = (t) => {
    if (t.packetType !== type || done) return t.packet;
    done = true;
    const p = parsePacket(t.packet.slice());
    change(p);
    return emitPacket(p, { checkOrder });
  };
}

function pair(seed: string) {
  const net = new SimNetwork(seed);
  return { net, a: net.addNode('a', idA), b: net.addNode('b', idB) };
}

describe('bytes outside the MAC and signature are checked', () => {
  it('an I2 with a second HIP_SIGNATURE appended is malformed (ERR_HIP_DUPLICATE_PARAM)', () => {
    const { net, a, b } = pair('dup-sig');
    tamperFirst(net, PacketType.I2, (p) => {
      const sig = getParam(p, ParamType.HIP_SIGNATURE)!;
      p.params.push({ ...sig, signature: sig.signature.map((x) => x ^ 1) });
    }, false);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(drops(b, 'malformed').some((d) => d.detail?.startsWith('ERR_HIP_DUPLICATE_PARAM'))).toBe(true);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
    net.run(); // the genuine retransmission still works
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
  });

  for (const [name, type, node] of [
    ['R1 (HIP_SIGNATURE_2)', PacketType.R1, 'a'],
    ['I2', PacketType.I2, 'b'],
    ['R2', PacketType.R2, 'a'],
  ] as const) {
    it(`an ${name} whose signature Algorithm field is not the signer's HI algorithm is refused`, () => {
      const { net, a, b } = pair(`alg-${name}`);
      tamperFirst(net, type, (p) => {
        const sig = getParam(p, type === PacketType.R1 ? ParamType.HIP_SIGNATURE_2 : ParamType.HIP_SIGNATURE)!;
        sig.algorithm = sig.algorithm === 7 ? 5 : 7; // RSA <-> ECDSA: the signature bytes stay valid
      });
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run(net.now + 500);
      const receiver = node === 'a' ? a : b;
      expect(drops(receiver, 'bad-signature').length).toBe(1);
      net.run();
      expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
    });
  }

  it('a CLOSE whose signature Algorithm field was changed does not close anything', () => {
    const { net, a, b } = pair('alg-close');
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    tamperFirst(net, PacketType.CLOSE, (p) => {
      getParam(p, ParamType.HIP_SIGNATURE)!.algorithm ^= 1;
    });
    a.engine.close(idB.hit(), net.now);
    net.run(net.now + 100);
    expect(drops(b, 'bad-signature')).toHaveLength(1);
    expect(SimNetwork.eventsOf(b, 'closed')).toHaveLength(0);
  });

  it('a v2 packet with non-zero padding after its signature is dropped as malformed', () => {
    const { net, a, b } = pair('padding');
    tamperFirst(net, PacketType.I2, (p) => {
      const sig = getParam(p, ParamType.HIP_SIGNATURE)!;
      const pad = (8 - ((4 + 2 + sig.signature.length) % 8)) % 8;
      expect(pad).toBeGreaterThan(0);
      sig.padding = new Uint8Array(pad).fill(0xee);
    });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(drops(b, 'malformed').some((d) => d.detail === 'non-zero TLV padding')).toBe(true);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
  });
});
