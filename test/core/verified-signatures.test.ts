/**
 * Issue 11: an initiator does not verify a responder's R1 signature again when it meets the very
 * same signed R1 (a responder signs its R1 once per puzzle generation, and a client with a new
 * host per connection meets it each time); any other bytes or signature are verified.
 */
import { describe, expect, it } from 'vitest';
import { sealPacket, verifySigned } from '../../src/core/sealing.js';
import { VerifiedSignatures } from '../../src/core/verified-signatures.js';
import { acceptedSignatureSchemes, signatureSchemeFor } from '../../src/crypto/host-id.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

/** The node provider, counting signature checks. */
function countingProvider(): { provider: CryptoProvider; verifies: () => number } {
  const base = getProvider('node');
  let n = 0;
  const provider: CryptoProvider = {
    ...base,
    verify: (...args) => {
      n++;
      return base.verify(...args);
    },
  };
  return { provider, verifies: () => n };
}

describe('verified signatures', () => {
  it('a second initiator checks the I2 and R2 signatures but not the R1 it already verified', () => {
    const { provider, verifies } = countingProvider();
    const idB = HostIdentity.generate();
    const net = new SimNetwork('verified-r1');
    const b = net.addNode('b', idB, {}, { provider });
    const counts: number[] = [];
    for (const name of ['a1', 'a2']) {
      const before = verifies();
      const a = net.addNode(name, HostIdentity.generate(), {}, { provider });
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run(net.now + 1000);
      expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
      counts.push(verifies() - before);
    }
    // R1, I2 (by the responder), R2; then the same R1 again: only I2 and R2.
    expect(counts).toEqual([3, 2]);
  });

  it('verifies bytes or a signature it has not seen, and keeps no failure', () => {
    const { provider, verifies } = countingProvider();
    const id = HostIdentity.generate();
    const signingKey = provider.importSigningKey(id.privateKey);
    const { algorithm } = id.hostIdentity();
    const raw = sealPacket(
      provider,
      { version: 2, type: PacketType.R1, controls: 0, checksum: 0, senderHit: id.hit(), receiverHit: new Uint8Array(16), params: [{ type: ParamType.R1_COUNTER, reserved: 0, counter: 7n }] },
      undefined,
      { type: ParamType.HIP_SIGNATURE_2, key: signingKey, scheme: signatureSchemeFor(id.publicKey, 2), algorithm },
    );
    const sig = getParam(parsePacket(raw), ParamType.HIP_SIGNATURE_2)!;
    const signer = { verifyingKey: provider.importVerifyingKey(id.publicKey), schemes: acceptedSignatureSchemes(id.publicKey, 2), hiAlgorithm: algorithm };
    const seen = new VerifiedSignatures();
    // A failure tries every accepted scheme.
    const tries = signer.schemes.length;
    const check = (bytes: Uint8Array, s = sig): [boolean, number] => {
      const before = verifies();
      return [verifySigned(provider, bytes, s, signer, seen), verifies() - before];
    };

    expect(check(raw)).toEqual([true, 1]);
    expect(check(raw)).toEqual([true, 0]);
    // The receiver HIT is zeroed under HIP_SIGNATURE_2: another initiator's copy is the same R1.
    const forOther = raw.slice();
    forOther.set(new Uint8Array(16).fill(0x20), 24);
    expect(check(forOther)).toEqual([true, 0]);
    // A changed signed byte (the R1_COUNTER value) is verified, and fails, every time.
    const tampered = raw.slice();
    tampered[40 + 11]! ^= 1;
    expect(check(tampered)).toEqual([false, tries]);
    expect(check(tampered)).toEqual([false, tries]);
    // So is another signature over the genuine bytes.
    const otherSig = { ...sig, signature: sig.signature.slice() };
    otherSig.signature[5]! ^= 1;
    expect(check(raw, otherSig)).toEqual([false, tries]);
    // And a key it was not verified under.
    const other = HostIdentity.generate();
    const before = verifies();
    expect(verifySigned(provider, raw, sig, { ...signer, verifyingKey: provider.importVerifyingKey(other.publicKey) }, seen)).toBe(false);
    expect(verifies() - before).toBe(tries);
  });

  it('keeps a bounded number of results per key', () => {
    const seen = new VerifiedSignatures(2);
    const key = getProvider('node').importVerifyingKey(HostIdentity.generate().publicKey);
    for (const id of ['a', 'b', 'c']) seen.add(key, id);
    expect(['a', 'b', 'c'].map((id) => seen.has(key, id))).toEqual([false, true, true]);
  });
});
