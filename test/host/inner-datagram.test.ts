/**
 * The inner UDP header of an ESP-carried datagram: a valid checksum when one is asked for
 * (decrypted captures), 0 ("none") when not, and a receiver that can leave verification to ESP.
 */
import { describe, expect, it } from 'vitest';
import { decodeInnerDatagram, encodeInnerDatagram } from '../../src/host/inner-datagram.js';
import { upperLayerChecksum } from '../../src/wire/checksum.js';
import { HIT_A, HIT_B } from './stream-protocol-sim.js';

const d = { srcPort: 5000, dstPort: 7, data: new TextEncoder().encode('hello') };

describe('inner datagram', () => {
  it('carries a checksum that verifies over the HIT pseudo-header by default', () => {
    const bytes = encodeInnerDatagram(d, HIT_A, HIT_B);
    expect((bytes[6]! << 8) | bytes[7]!).not.toBe(0);
    expect(upperLayerChecksum(HIT_A, HIT_B, 17, bytes)).toBe(0);
    expect(decodeInnerDatagram(bytes, HIT_A, HIT_B)).toEqual({ ...d, data: d.data });
  });

  it('with checksum: false the field is 0 and the datagram still decodes', () => {
    const bytes = encodeInnerDatagram(d, HIT_A, HIT_B, { checksum: false });
    expect(bytes[6]).toBe(0);
    expect(bytes[7]).toBe(0);
    expect(Buffer.from(decodeInnerDatagram(bytes, HIT_A, HIT_B).data).toString()).toBe('hello');
  });

  it('a wrong checksum is refused unless the caller leaves verification to ESP', () => {
    const bytes = encodeInnerDatagram(d, HIT_A, HIT_B);
    bytes[7]! ^= 0x55;
    expect(() => decodeInnerDatagram(bytes, HIT_A, HIT_B)).toThrow(/checksum/);
    expect(decodeInnerDatagram(bytes, HIT_A, HIT_B, { checksum: false }).dstPort).toBe(7);
  });
});
