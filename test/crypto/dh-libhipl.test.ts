// Diffie-Hellman against real libhipl runs: the traced exponents must reproduce the public values
// on the wire and the Kij libhipl fed to its KEYMAT function.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import { CAPTURE_NAMES, dhValues, loadHipPackets, loadVectors } from './dh-capture-fixtures.js';

describe.each([nodeCrypto, nobleCrypto])('$name provider: group 3 with libhipl captures', (c) => {
  it.each(CAPTURE_NAMES)('%s: public values match R1/I2 and Kij matches both ways', (name) => {
    const v = loadVectors(name);
    const packets = loadHipPackets(name);
    const r1 = packets.find((p) => p.type === 2)!;
    const i2 = packets.find((p) => p.type === 3)!;
    const initiator = c.dhGenerate(3, v.xI3);
    const responder = c.dhGenerate(3, v.xR3);
    expect(initiator.publicValue.length).toBe(192);
    expect(bytesToHex(responder.publicValue)).toBe(bytesToHex(dhValues(r1).get(3)!));
    expect(bytesToHex(initiator.publicValue)).toBe(bytesToHex(dhValues(i2).get(3)!));
    // libhipl's R1 also offers group 1, padded to 48 bytes
    expect(dhValues(r1).get(1)!.length).toBe(48);
    const kijI = c.dhCompute(initiator, responder.publicValue);
    const kijR = c.dhCompute(responder, initiator.publicValue);
    expect(bytesToHex(kijI)).toBe(bytesToHex(v.Kij));
    expect(bytesToHex(kijR)).toBe(bytesToHex(v.Kij));
  });
});
