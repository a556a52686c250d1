import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import {
  CONTROL_ANONYMOUS,
  PacketType,
  ParamType,
  emitPacket,
  findTlv,
  listTlvs,
  parsePacket,
  tlvSize,
  type HipPacket,
} from '../../src/wire/index.js';
import { HIT_I, HIT_R, expectWireError, hx, packet, plain, tlv } from './wire-helpers.js';

const SEQ = '0181 0004 00000001';
const ACK = '01c1 0004 00000001';
const MAC = 'f041 0004 01020304';
const SIG1 = 'f101 0002 05 aa';
const SIG2 = 'f101 0003 0005 aa';

describe('parsePacket: header', () => {
  it('parses the libhipl C4 I1 header (v1, 40 bytes, no parameters)', () => {
    const bytes = hexToBytes(
      '3b040111 0000 0000 20010016613b9165e851e18f52bd385c 20010016eea67454a0afcf3b2717837b',
    );
    const pkt = parsePacket(bytes);
    expect(plain(pkt)).toEqual({
      version: 1,
      type: PacketType.I1,
      controls: 0,
      checksum: 0,
      senderHit: 'hex:20010016613b9165e851e18f52bd385c',
      receiverHit: 'hex:20010016eea67454a0afcf3b2717837b',
      params: [],
    });
    expect(bytesToHex(emitPacket(pkt))).toBe(bytesToHex(bytes));
  });

  it('keeps controls, the checksum field and the reserved bits of byte 3', () => {
    const bytes = packet(2, PacketType.R1, '', CONTROL_ANONYMOUS);
    bytes[3] = 0x2b; // version 2, reserved 101, fixed 1
    bytes[4] = 0x12;
    bytes[5] = 0x34;
    const pkt = parsePacket(bytes);
    expect(pkt.controls).toBe(1);
    expect(pkt.checksum).toBe(0x1234);
    expect(pkt.headerReserved).toBe(5);
    const out = emitPacket(pkt);
    expect(out[3]).toBe(0x2b);
    expect(out[4]).toBe(0); // checksum is 0 unless addresses are given
    expect(out[5]).toBe(0);
  });

  it('returns views into the input, not copies', () => {
    const bytes = packet(2, PacketType.CLOSE, tlv('0381 0004 cafebabe'));
    const pkt = parsePacket(bytes);
    const echo = pkt.params[0] as { opaque: Uint8Array };
    expect(echo.opaque.buffer).toBe(bytes.buffer);
    expect(pkt.senderHit.buffer).toBe(bytes.buffer);
  });

  it('ERR_HIP_TRUNCATED: shorter than 40 bytes', () => {
    expectWireError(() => parsePacket(new Uint8Array(39)), 'ERR_HIP_TRUNCATED');
  });

  it('ERR_HIP_TRUNCATED: shorter than the Header Length says', () => {
    const bytes = packet(2, PacketType.UPDATE, tlv(SEQ));
    const e = expectWireError(() => parsePacket(bytes.subarray(0, 40)), 'ERR_HIP_TRUNCATED');
    expect(e.details).toMatchObject({ length: 40, expected: 48 });
  });

  it('ERR_HIP_TRAILING_DATA: longer than the Header Length says', () => {
    const bytes = packet(2, PacketType.I1);
    const longer = new Uint8Array(48);
    longer.set(bytes);
    expectWireError(() => parsePacket(longer), 'ERR_HIP_TRAILING_DATA');
  });

  it('ERR_HIP_BAD_HEADER_LENGTH: Header Length below 4', () => {
    const bytes = packet(2, PacketType.I1);
    bytes[1] = 3;
    expectWireError(() => parsePacket(bytes), 'ERR_HIP_BAD_HEADER_LENGTH');
  });

  it('ERR_HIP_NEXT_HEADER: Next Header other than 59', () => {
    const bytes = packet(2, PacketType.I1);
    bytes[0] = 6;
    expectWireError(() => parsePacket(bytes), 'ERR_HIP_NEXT_HEADER');
  });

  it('ERR_HIP_BAD_FIXED_BITS: byte 2 top bit set, or byte 3 low bit clear', () => {
    const a = packet(2, PacketType.I1);
    a[2] = 0x81;
    expectWireError(() => parsePacket(a), 'ERR_HIP_BAD_FIXED_BITS');
    const b = packet(2, PacketType.I1);
    b[3] = 0x20;
    expectWireError(() => parsePacket(b), 'ERR_HIP_BAD_FIXED_BITS');
  });

  it('ERR_HIP_BAD_VERSION: version 3 (and 0)', () => {
    for (const v of [0x31, 0x01]) {
      const bytes = packet(2, PacketType.I1);
      bytes[3] = v;
      expectWireError(() => parsePacket(bytes), 'ERR_HIP_BAD_VERSION');
    }
  });

  it('ERR_HIP_UNKNOWN_PACKET_TYPE: type 20 (HDRR, not handled) and 0', () => {
    expectWireError(() => parsePacket(packet(2, 20)), 'ERR_HIP_UNKNOWN_PACKET_TYPE');
    expectWireError(() => parsePacket(packet(2, 0)), 'ERR_HIP_UNKNOWN_PACKET_TYPE');
  });

  it('refuses a non-Uint8Array with a typed error', () => {
    expectWireError(() => parsePacket('hello' as unknown as Uint8Array), 'ERR_HIP_TRUNCATED');
  });
});

describe('parsePacket: TLV framing', () => {
  it('ERR_HIP_PARAM_TRUNCATED: contents run past the end', () => {
    expectWireError(() => parsePacket(packet(2, PacketType.UPDATE, '0181 0010 00000001')), 'ERR_HIP_PARAM_TRUNCATED');
  });

  it('ERR_HIP_PARAM_TRUNCATED: contents fit but the padding would not', () => {
    // TLVs start 8-aligned and packets are multiples of 8, so this is the same check: an
    // ECHO of 13 bytes (17, padded to 24) in a 56-byte packet.
    expectWireError(() => parsePacket(packet(2, PacketType.UPDATE, `0381 000d ${'11'.repeat(12)}`)), 'ERR_HIP_PARAM_TRUNCATED');
  });

  it('ERR_HIP_UNKNOWN_CRITICAL_PARAM names the type', () => {
    const e = expectWireError(() => parsePacket(packet(2, PacketType.I1, tlv('03e9 0000'))), 'ERR_HIP_UNKNOWN_CRITICAL_PARAM');
    expect(e.details?.paramType).toBe(1001);
    expect(e.message).toContain('1001');
  });

  it('an unknown non-critical type (1000) is kept raw and re-emitted', () => {
    const bytes = packet(2, PacketType.I1, tlv('01ff 0001 03', '03e8 0003 010203'));
    const pkt = parsePacket(bytes);
    expect(plain(pkt.params[1])).toEqual({ type: 1000, raw: true, contents: 'hex:010203' });
    expect(bytesToHex(emitPacket(pkt))).toBe(bytesToHex(bytes));
  });
});

describe('parameter order', () => {
  const ok = (version: 1 | 2, ...tlvs: string[]) => parsePacket(packet(version, PacketType.UPDATE, tlv(...tlvs)));
  const bad = (version: 1 | 2, ...tlvs: string[]) =>
    expectWireError(() => parsePacket(packet(version, PacketType.UPDATE, tlv(...tlvs))), 'ERR_HIP_PARAM_ORDER');

  it('v2: ascending order is accepted, repeats allowed when adjacent', () => {
    expect(ok(2, SEQ, ACK, ACK, MAC, SIG2).params.map((p) => p.type)).toEqual([385, 449, 449, 61505, 61697]);
  });

  it('v2: a decrease is refused (HIP_MAC after HIP_SIGNATURE)', () => {
    const e = bad(2, SEQ, SIG2, MAC);
    expect(e.details).toMatchObject({ paramType: 61505, previousType: 61697, index: 2 });
  });

  for (const version of [1, 2] as const) {
    it(`v${version}: a second HIP_MAC, HIP_SIGNATURE or SEQ is refused (ERR_HIP_DUPLICATE_PARAM)`, () => {
      for (const tlvs of [[SEQ, MAC, MAC, SIG2], [SEQ, MAC, SIG2, SIG2], [SEQ, SEQ, MAC]]) {
        const e = expectWireError(() => parsePacket(packet(version, PacketType.UPDATE, tlv(...tlvs))), 'ERR_HIP_DUPLICATE_PARAM');
        expect(e.details?.paramType).toBeDefined();
      }
      expect(() => emitPacket(parsePacket(packet(version, PacketType.UPDATE, tlv(SEQ, MAC, SIG2))))).not.toThrow();
    });
  }

  it('v2: non-adjacent repeats are refused', () => {
    bad(2, ACK, SEQ, ACK);
  });

  it('v2: the transform range exception is v1 only', () => {
    bad(2, '0fff 0004 0000 0008', '0801 0002 0fff');
  });

  it('v1: a decrease inside 2048-4095 is tolerated (libhipl)', () => {
    expect(ok(1, '0fff 0004 0000 0001', '0801 0002 0fff', MAC).params.map((p) => p.type)).toEqual([4095, 2049, 61505]);
  });

  it('v1: a decrease with only one neighbour in 2048-4095 is refused', () => {
    bad(1, '0fff 0004 0000 0001', SEQ);
    bad(1, MAC, '0801 0002 0fff');
  });

  it("v1: libhipl's I2 disorders are tolerated (HIPV1-PROFILE 6)", () => {
    // ESP_INFO, SOLUTION, DIFFIE_HELLMAN, R1_COUNTER, HIP_TRANSFORM, ..., ESP_TRANSFORM,
    // ECHO_RESPONSE_SIGNED, HMAC, HIP_SIGNATURE
    const types = ok(
      1,
      '0041 000c 0000 0048 00000000 00000001',
      `0141 0014 00 00 4849 ${'11'.repeat(16)}`,
      '0201 0004 03 0001 02',
      '0080 000c 00000000 0000000000000001',
      '0241 0002 0001',
      '0fff 0004 0000 0001',
      '03c1 0004 01020304',
      MAC,
      SIG1,
    ).params.map((p) => p.type);
    expect(types).toEqual([65, 321, 513, 128, 577, 4095, 961, 61505, 61697]);
  });

  it('v1: a tolerated stray does not lower the bar for what follows it', () => {
    // R1_COUNTER after DIFFIE_HELLMAN is fine, but SOLUTION (321) after it is still below 513.
    bad(1, '0201 0004 03 0001 02', '0080 000c 00000000 0000000000000001', `0141 0014 00 00 4849 ${'11'.repeat(16)}`);
  });

  it('v1: R1_COUNTER out of order anywhere else is refused, as is the echo elsewhere', () => {
    bad(1, '0241 0002 0001', '0080 000c 00000000 0000000000000001');
    bad(1, MAC, '03c1 0004 01020304');
  });

  it('v2: the libhipl disorders are refused', () => {
    bad(2, '0201 0004 03 0001 02', '0081 000c 00000000 0000000000000001');
  });

  it('emitPacket checks the order too, unless told not to', () => {
    const pkt: HipPacket = {
      version: 2,
      type: PacketType.UPDATE,
      controls: 0,
      checksum: 0,
      senderHit: HIT_I,
      receiverHit: HIT_R,
      params: [
        { type: 449, updateIds: [1] },
        { type: 385, updateId: 1 },
      ],
    };
    expectWireError(() => emitPacket(pkt), 'ERR_HIP_PARAM_ORDER');
    const bytes = emitPacket(pkt, { checkOrder: false });
    expect(bytesToHex(bytes.subarray(40))).toBe(tlv(ACK, SEQ));
  });
});

describe('lenient parsing (inspection of other implementations)', () => {
  it('accepts misordered parameters and keeps unparseable ones raw with the error code', () => {
    const bytes = packet(
      2,
      PacketType.R1,
      tlv('0201 0007 07 0008 aabbccdd', '0081 0004 00000000', '03e9 0000', SEQ),
    );
    expectWireError(() => parsePacket(bytes), 'ERR_HIP_PARAM_LENGTH');
    const pkt = parsePacket(bytes, { lenient: true });
    expect(plain(pkt.params)).toEqual([
      { type: 513, raw: true, contents: 'hex:070008aabbccdd', malformed: 'ERR_HIP_PARAM_LENGTH' },
      { type: 129, raw: true, contents: 'hex:00000000', malformed: 'ERR_HIP_PARAM_LENGTH' },
      { type: 1001, raw: true, contents: 'hex:', malformed: 'ERR_HIP_UNKNOWN_CRITICAL_PARAM' },
      { type: 385, updateId: 1 },
    ]);
    expect(bytesToHex(emitPacket(pkt, { checkOrder: false }))).toBe(bytesToHex(bytes));
  });

  it('still throws on framing errors', () => {
    expectWireError(() => parsePacket(packet(2, PacketType.R1, '0181 0010 00000001'), { lenient: true }), 'ERR_HIP_PARAM_TRUNCATED');
  });
});

describe('emitPacket', () => {
  const base = (): HipPacket => ({
    version: 2,
    type: PacketType.UPDATE,
    controls: 0,
    checksum: 0xffff,
    senderHit: HIT_I,
    receiverHit: HIT_R,
    params: [{ type: 385, updateId: 1 }],
  });

  it('computes Header Length and writes the fixed bits', () => {
    const out = emitPacket(base());
    expect(bytesToHex(out)).toBe(
      hx(`3b 05 10 21 0000 0000 ${bytesToHex(HIT_I)} ${bytesToHex(HIT_R)} 0181 0004 00000001`),
    );
  });

  it('ERR_HIP_PACKET_TOO_LONG beyond 2048 bytes; exactly 2048 is fine', () => {
    const p = base();
    // 40 + 4 + L + pad = 2048 with L = 2004.
    p.params = [{ type: 897, opaque: new Uint8Array(2004) }];
    expect(emitPacket(p).length).toBe(2048);
    expect(emitPacket(p)[1]).toBe(255);
    p.params = [{ type: 897, opaque: new Uint8Array(2005) }];
    expectWireError(() => emitPacket(p), 'ERR_HIP_PACKET_TOO_LONG');
  });

  it('ERR_HIP_BAD_VERSION and ERR_HIP_UNKNOWN_PACKET_TYPE', () => {
    expectWireError(() => emitPacket({ ...base(), version: 3 as 2 }), 'ERR_HIP_BAD_VERSION');
    expectWireError(() => emitPacket({ ...base(), type: 99 }), 'ERR_HIP_UNKNOWN_PACKET_TYPE');
  });

  it('ERR_HIP_BAD_FIELD for HITs, controls, reserved bits and a missing params array', () => {
    expectWireError(() => emitPacket({ ...base(), senderHit: new Uint8Array(15) }), 'ERR_HIP_BAD_FIELD');
    expectWireError(() => emitPacket({ ...base(), receiverHit: new Uint8Array(17) }), 'ERR_HIP_BAD_FIELD');
    expectWireError(() => emitPacket({ ...base(), controls: 0x10000 }), 'ERR_HIP_BAD_FIELD');
    expectWireError(() => emitPacket({ ...base(), headerReserved: 8 }), 'ERR_HIP_BAD_FIELD');
    expectWireError(() => emitPacket({ ...base(), params: undefined as unknown as [] }), 'ERR_HIP_BAD_FIELD');
    expectWireError(() => emitPacket(null as unknown as HipPacket), 'ERR_HIP_BAD_FIELD');
  });

  it('ERR_HIP_BAD_ADDRESS when checksum addresses are malformed', () => {
    expectWireError(
      () => emitPacket(base(), { checksum: { src: new Uint8Array(4), dst: new Uint8Array(16) } }),
      'ERR_HIP_BAD_ADDRESS',
    );
  });

  it('emits raw parameters of any type verbatim, even unknown critical ones', () => {
    const p = base();
    p.params.push({ type: 1001, raw: true, contents: hexToBytes('aa') });
    expect(bytesToHex(emitPacket(p).subarray(48))).toBe(hx('03e9 0001 aa 000000'));
  });
});

describe('TLV helpers', () => {
  const bytes = packet(2, PacketType.R1, tlv(`0101 0018 00 00 0000 ${'ab'.repeat(20)}`, '02c1 000a 0004 0000 0005 01020304', SIG2));

  it('listTlvs gives offsets, lengths and ends', () => {
    expect(listTlvs(bytes)).toEqual([
      { type: 257, offset: 40, length: 24, end: 72 },
      { type: 705, offset: 72, length: 10, end: 88 },
      { type: 61697, offset: 88, length: 3, end: 96 },
    ]);
  });

  it('findTlv returns the whole TLV with padding, as a view', () => {
    const t = findTlv(bytes, ParamType.HOST_ID)!;
    expect(bytesToHex(t)).toBe(hx('02c1 000a 0004 0000 0005 01020304 0000'));
    expect(t.buffer).toBe(bytes.buffer);
    expect(findTlv(bytes, ParamType.HIP_MAC)).toBeUndefined();
  });

  it('findTlv stops at the Header Length and reports cut TLVs', () => {
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    longer.set(hexToBytes('f041 0000'), bytes.length);
    expect(findTlv(longer, ParamType.HIP_MAC)).toBeUndefined();
    expectWireError(() => findTlv(new Uint8Array(20), 1), 'ERR_HIP_TRUNCATED');
    // Buffers shorter than the Header Length: a TLV header (42 bytes) or body (44) cut short.
    expectWireError(() => findTlv(bytes.subarray(0, 42), 1), 'ERR_HIP_PARAM_TRUNCATED');
    expectWireError(() => findTlv(bytes.subarray(0, 44), 1), 'ERR_HIP_PARAM_TRUNCATED');
    const cut = bytes.slice();
    cut[75] = 0xff; // HOST_ID length now runs past the end
    expectWireError(() => findTlv(cut, ParamType.HIP_SIGNATURE), 'ERR_HIP_PARAM_TRUNCATED');
  });

  it('tlvSize rounds 4 + L up to 8', () => {
    expect([0, 1, 4, 5, 12, 13].map(tlvSize)).toEqual([8, 8, 8, 16, 16, 24]);
  });
});
