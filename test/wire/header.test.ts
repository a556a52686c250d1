import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { HeaderOffset, checkFraming, parseHeader, writeHeader } from '../../src/wire/index.js';
import { HIT_I, HIT_R, expectWireError, packet } from './wire-helpers.js';

describe('header', () => {
  const fields = { version: 2, type: 2, controls: 1, senderHit: HIT_I, receiverHit: HIT_R };

  it('writeHeader writes next header, length, type, version byte, controls and HITs', () => {
    const out = new Uint8Array(48).fill(0xee);
    writeHeader(out, { ...fields, headerReserved: 2 });
    expect(bytesToHex(out.subarray(0, 8))).toBe('3b05022500000001');
    expect(bytesToHex(out.subarray(HeaderOffset.SENDER_HIT, HeaderOffset.SENDER_HIT + 16))).toBe(bytesToHex(HIT_I));
    expect(bytesToHex(out.subarray(HeaderOffset.RECEIVER_HIT, HeaderOffset.PARAMS))).toBe(bytesToHex(HIT_R));
    expect(out[40]).toBe(0xee); // parameters untouched
  });

  it('writeHeader validates on its own too', () => {
    expectWireError(() => writeHeader(new Uint8Array(2056), fields), 'ERR_HIP_PACKET_TOO_LONG');
    expectWireError(() => writeHeader(new Uint8Array(40), { ...fields, version: 0 }), 'ERR_HIP_BAD_VERSION');
    expectWireError(() => writeHeader(new Uint8Array(40), { ...fields, type: 128 }), 'ERR_HIP_UNKNOWN_PACKET_TYPE');
    expectWireError(() => writeHeader(new Uint8Array(40), { ...fields, controls: -1 }), 'ERR_HIP_BAD_FIELD');
  });

  it('parseHeader reports the frame length and the header fields', () => {
    const h = parseHeader(packet(1, 18, '0381 0004 01020304'));
    expect([h.version, h.type, h.length, h.headerReserved]).toEqual([1, 18, 48, 0]);
  });

  it('checkFraming only looks at lengths', () => {
    const b = packet(2, 1);
    b[0] = 0; // a bad Next Header does not matter here
    expect(checkFraming(b)).toBe(40);
    expectWireError(() => checkFraming(b.subarray(0, 39)), 'ERR_HIP_TRUNCATED');
  });
});
