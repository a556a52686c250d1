import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { HipWireError } from '../../src/errors.js';
import {
  DhGroup,
  PacketType,
  ParamType,
  assertChecksum,
  emitPacket,
  hipChecksum,
  verifyChecksum,
} from '../../src/wire/index.js';

// RFC 7401 Appendix C: I1 from HIT 2001:20::1 to 2001:20::2 carrying DH_GROUP_LIST {3,4,8}.
const rfcI1 = (sum: string) =>
  hexToBytes(
    `3b050121 ${sum} 0000 20010020000000000000000000000001 20010020000000000000000000000002 01ff0003 03040800`,
  );
const v6src = hexToBytes('20010db8000000000000000000000001');
const v6dst = hexToBytes('20010db8000000000000000000000002');
const v4src = hexToBytes('c0000201'); // 192.0.2.1
const v4dst = hexToBytes('c0000202');

describe('hipChecksum', () => {
  it('RFC 7401 App. C: IPv6 pseudo-header gives 0x1a5e', () => {
    expect(hipChecksum(rfcI1('0000'), v6src, v6dst)).toBe(0x1a5e);
  });

  it('RFC 7401 App. C: IPv4 pseudo-header gives 0xf1ce', () => {
    expect(hipChecksum(rfcI1('0000'), v4src, v4dst)).toBe(0xf1ce);
  });

  it('ignores the current value of the checksum field', () => {
    expect(hipChecksum(rfcI1('beef'), v4src, v4dst)).toBe(0xf1ce);
  });

  it('hip-vpls checksum_test.py vector: 0x6d9a', () => {
    // I1 with DH_GROUP_LIST {9,8,7,3,4,10}, 192.168.0.121 -> 192.168.0.103 (56 bytes).
    const pkt = hexToBytes(
      '3b060121 0000 0000 200120012828a123511f8d3fcd630d68 20012001eabb93388db90757263981 76 01ff0006 0908070304 0a 000000000000',
    );
    expect(pkt.length).toBe(56);
    expect(hipChecksum(pkt, hexToBytes('c0a80079'), hexToBytes('c0a80067'))).toBe(0x6d9a);
  });

  it('emitPacket computes the same checksum as the RFC example and the bytes match', () => {
    const bytes = emitPacket(
      {
        version: 2,
        type: PacketType.I1,
        controls: 0,
        checksum: 0,
        senderHit: hexToBytes('20010020000000000000000000000001'),
        receiverHit: hexToBytes('20010020000000000000000000000002'),
        params: [{ type: ParamType.DH_GROUP_LIST, groups: [DhGroup.MODP_1536, DhGroup.MODP_3072, DhGroup.NIST_P384] }],
      },
      { checksum: { src: v6src, dst: v6dst } },
    );
    expect(bytesToHex(bytes)).toBe(bytesToHex(rfcI1('1a5e')));
  });

  it('rejects addresses of mixed or odd lengths', () => {
    for (const [s, d] of [
      [v4src, v6dst],
      [new Uint8Array(5), new Uint8Array(5)],
    ] as const) {
      try {
        hipChecksum(rfcI1('0000'), s, d);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(HipWireError);
        expect((e as HipWireError).code).toBe('ERR_HIP_BAD_ADDRESS');
      }
    }
  });

  it('pads an odd trailing byte with zero', () => {
    // Words: 0x0102 + 0x0300 + pseudo-header; cross-check against an explicit even copy.
    const odd = hexToBytes('010203');
    const even = hexToBytes('01020300');
    expect(hipChecksum(odd, v4src, v4dst)).not.toBe(hipChecksum(even, v4src, v4dst)); // length differs
    // same length in the pseudo-header: compare against the manual sum
    const manual = (() => {
      let s = 0xc000 + 0x0201 + 0xc000 + 0x0202 + 139 + 3 + 0x0102 + 0x0300;
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      return ~s & 0xffff;
    })();
    expect(hipChecksum(odd, v4src, v4dst)).toBe(manual);
  });
});

describe('verifyChecksum / assertChecksum', () => {
  it('accepts the RFC values and rejects a wrong one', () => {
    expect(verifyChecksum(rfcI1('1a5e'), v6src, v6dst)).toBe(true);
    expect(verifyChecksum(rfcI1('f1ce'), v4src, v4dst)).toBe(true);
    expect(verifyChecksum(rfcI1('f1cf'), v4src, v4dst)).toBe(false);
    expect(verifyChecksum(rfcI1('1a5e'), v4src, v4dst)).toBe(false);
    expect(verifyChecksum(new Uint8Array(3), v4src, v4dst)).toBe(false);
  });

  it('assertChecksum throws ERR_HIP_BAD_CHECKSUM with the expected value', () => {
    expect(() => assertChecksum(rfcI1('f1ce'), v4src, v4dst)).not.toThrow();
    try {
      assertChecksum(rfcI1('0000'), v4src, v4dst);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HipWireError);
      expect((e as HipWireError).code).toBe('ERR_HIP_BAD_CHECKSUM');
      expect((e as HipWireError).details).toMatchObject({ expected: 0xf1ce, actual: 0 });
    }
    expect(() => assertChecksum(new Uint8Array(2), v4src, v4dst)).toThrow(HipWireError);
  });
});
