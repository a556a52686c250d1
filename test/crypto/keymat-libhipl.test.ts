// HIPv1 KEYMAT against real libhipl runs: the SHA-1 chain must give libhipl's 160 bytes, and the
// keys drawn from it must reproduce the HMACs on the wire.
import { describe, expect, it } from 'vitest';
import { bytesToHex, compareBytes } from '../../src/bytes.js';
import { KeymatDrawer, keymatV1 } from '../../src/crypto/keymat.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import { CAPTURE_NAMES, loadHipPackets, loadVectors, macInput, tlv } from './dh-capture-fixtures.js';

describe.each([nodeCrypto, nobleCrypto])('$name provider: KEYMAT v1 with libhipl captures', (c) => {
  it.each(CAPTURE_NAMES)('%s: KEYMAT160 matches whatever order the HITs are given in', (name) => {
    const v = loadVectors(name);
    expect(bytesToHex(keymatV1(c, v.Kij, v.HIT_I, v.HIT_R, v.I, v.J, 160))).toBe(bytesToHex(v.KEYMAT160));
    expect(bytesToHex(keymatV1(c, v.Kij, v.HIT_R, v.HIT_I, v.I, v.J, 160))).toBe(bytesToHex(v.KEYMAT160));
    // shorter requests are prefixes (libhipl draws 80 bytes for suite 5)
    expect(bytesToHex(keymatV1(c, v.Kij, v.HIT_I, v.HIT_R, v.I, v.J, 77))).toBe(bytesToHex(v.KEYMAT160.subarray(0, 77)));
  });

  it.each(CAPTURE_NAMES)('%s: drawn HIP integrity keys verify the I2 HMAC and the R2 HMAC_2', (name) => {
    const v = loadVectors(name);
    const packets = loadHipPackets(name);
    const r1 = packets.find((p) => p.type === 2)!;
    const i2 = packets.find((p) => p.type === 3)!;
    const r2 = packets.find((p) => p.type === 4)!;
    const d = new KeymatDrawer(keymatV1(c, v.Kij, v.HIT_I, v.HIT_R, v.I, v.J, 160));
    d.draw(16);
    const glInt = d.draw(20);
    d.draw(16);
    const lgInt = d.draw(20);
    expect(d.offset).toBe(72); // the KEYMAT index libhipl puts in ESP_INFO
    const initiatorGreater = compareBytes(v.HIT_I, v.HIT_R) > 0;
    const initiatorKey = initiatorGreater ? glInt : lgInt;
    const responderKey = initiatorGreater ? lgInt : glInt;

    const i2Mac = c.hmac('sha1', initiatorKey, macInput(i2, 61505));
    expect(bytesToHex(i2Mac)).toBe(bytesToHex(tlv(i2, 61505).value));
    expect(bytesToHex(c.hmac('sha1', responderKey, macInput(i2, 61505)))).not.toBe(bytesToHex(tlv(i2, 61505).value));

    const r2Mac = c.hmac('sha1', responderKey, macInput(r2, 61569, tlv(r1, 705).whole));
    expect(bytesToHex(r2Mac)).toBe(bytesToHex(tlv(r2, 61569).value));
  });
});

it('the C4 I2 HMAC is the value HIPV1-PROFILE 15 prints', () => {
  const i2 = loadHipPackets('libhipl-v1-udp-k12').find((p) => p.type === 3)!;
  expect(macInput(i2, 61505).length).toBe(448);
  expect(bytesToHex(tlv(i2, 61505).value)).toBe('0ab93965a773792111a1bd8028eef0f2d1fae102');
});
