import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { PacketType, ParamType, authenticatedBytes, findTlv } from '../../src/wire/index.js';
import { HIT_I, HIT_R, expectWireError, hx, packet, tlv } from './wire-helpers.js';

const ESP_INFO = '0041 000c 0000 0060 00000000 11223344';
const MAC = `f041 0020 ${'aa'.repeat(32)}`;
const MAC2 = `f081 0020 ${'bb'.repeat(32)}`;
const SIG = `f101 0006 0005 ${'cc'.repeat(4)}`;
const SIG2 = `f0c1 0006 0005 ${'dd'.repeat(4)}`;
const I = '5c'.repeat(32);
const PUZZLE = `0101 0024 10 25 3168 ${I}`;
const HOST_ID = '02c1 000a 0004 0000 0005 01020304';
const ECHO_U = 'f8ad 0004 01020304';

/** The expected header of a cut packet: Header Length for `len` bytes, checksum 0. */
function header(version: 1 | 2, type: number, len: number, receiver = HIT_R): string {
  const hl = (len / 8 - 1).toString(16).padStart(2, '0');
  return hx(`3b ${hl} ${type.toString(16).padStart(2, '0')} ${version}1 0000 0000 ${bytesToHex(HIT_I)} ${bytesToHex(receiver)}`);
}

function withChecksum(b: Uint8Array): Uint8Array {
  b[4] = 0xbe;
  b[5] = 0xef;
  return b;
}

describe('authenticatedBytes', () => {
  const i2 = withChecksum(packet(2, PacketType.I2, tlv(ESP_INFO, MAC, SIG, ECHO_U)));

  it('HIP_MAC: everything before the MAC, Header Length fixed, checksum zeroed', () => {
    const out = authenticatedBytes(i2, ParamType.HIP_MAC);
    expect(bytesToHex(out)).toBe(header(2, 3, 56) + tlv(ESP_INFO));
  });

  it('HIP_SIGNATURE: includes the HIP_MAC, excludes what follows the signature', () => {
    const out = authenticatedBytes(i2, ParamType.HIP_SIGNATURE);
    expect(bytesToHex(out)).toBe(header(2, 3, 96) + tlv(ESP_INFO, MAC));
  });

  it('returns a new buffer and leaves the packet untouched', () => {
    const before = bytesToHex(i2);
    const out = authenticatedBytes(i2, ParamType.HIP_MAC);
    out[10] = 0;
    expect(bytesToHex(i2)).toBe(before);
    expect(out.buffer).not.toBe(i2.buffer);
  });

  it('a packet without that parameter yet: the whole packet, checksum zeroed', () => {
    const building = withChecksum(packet(2, PacketType.I2, tlv(ESP_INFO, MAC)));
    expect(bytesToHex(authenticatedBytes(building, ParamType.HIP_SIGNATURE))).toBe(header(2, 3, 96) + tlv(ESP_INFO, MAC));
  });

  it('HIP_SIGNATURE_2: also zeroes the Receiver HIT and the PUZZLE Opaque and #I, keeps #K and Lifetime', () => {
    const r1 = withChecksum(packet(2, PacketType.R1, tlv(PUZZLE, HOST_ID, SIG2, ECHO_U)));
    const out = authenticatedBytes(r1, ParamType.HIP_SIGNATURE_2);
    const zeroPuzzle = tlv(`0101 0024 10 25 0000 ${'00'.repeat(32)}`);
    expect(bytesToHex(out)).toBe(header(2, 2, 40 + 40 + 16, new Uint8Array(16)) + zeroPuzzle + tlv(HOST_ID));
  });

  it('HIP_SIGNATURE_2 v1: the 8-byte #I is zeroed', () => {
    const r1 = packet(1, PacketType.R1, tlv('0101 000c 0c 2a 4849 8237c328d6d714eb', 'f0c1 0003 05 abcd'));
    const out = authenticatedBytes(r1, ParamType.HIP_SIGNATURE_2);
    expect(bytesToHex(out)).toBe(header(1, 2, 56, new Uint8Array(16)) + tlv('0101 000c 0c 2a 0000 0000000000000000'));
  });

  it('HIP_SIGNATURE (not _2) does not zero the puzzle or the receiver HIT', () => {
    const r1 = packet(2, PacketType.R1, tlv(PUZZLE, SIG));
    expect(bytesToHex(authenticatedBytes(r1, ParamType.HIP_SIGNATURE))).toBe(header(2, 2, 80) + tlv(PUZZLE));
  });

  it('HIP_MAC_2: appends the Responder HOST_ID TLV and counts it in Header Length', () => {
    const r1 = packet(2, PacketType.R1, tlv(PUZZLE, HOST_ID, SIG2));
    const hostIdTlv = findTlv(r1, ParamType.HOST_ID)!;
    const r2 = withChecksum(packet(2, PacketType.R2, tlv(ESP_INFO, MAC2, SIG)));
    const out = authenticatedBytes(r2, ParamType.HIP_MAC_2, { responderHostIdTlv: hostIdTlv });
    expect(bytesToHex(out)).toBe(header(2, 4, 56 + 16) + tlv(ESP_INFO) + tlv(HOST_ID));
  });

  it('HIP_MAC_2 without the HOST_ID TLV: ERR_HIP_MISSING_HOST_ID', () => {
    const r2 = packet(2, PacketType.R2, tlv(ESP_INFO, MAC2, SIG));
    expectWireError(() => authenticatedBytes(r2, ParamType.HIP_MAC_2), 'ERR_HIP_MISSING_HOST_ID');
  });

  it('HIP_MAC_2 with a HOST_ID that is not a padded TLV: ERR_HIP_PARAM_LENGTH', () => {
    const r2 = packet(2, PacketType.R2, tlv(ESP_INFO, MAC2, SIG));
    expectWireError(
      () => authenticatedBytes(r2, ParamType.HIP_MAC_2, { responderHostIdTlv: hexToBytes('02c1000a0004') }),
      'ERR_HIP_PARAM_LENGTH',
    );
  });

  it('HIP_MAC_2 input larger than 2048 bytes: ERR_HIP_PACKET_TOO_LONG', () => {
    const r2 = packet(2, PacketType.R2, tlv(ESP_INFO, MAC2));
    expectWireError(
      () => authenticatedBytes(r2, ParamType.HIP_MAC_2, { responderHostIdTlv: new Uint8Array(2048) }),
      'ERR_HIP_PACKET_TOO_LONG',
    );
  });

  it('RVS_HMAC and RELAY_HMAC: plain cut', () => {
    const i1 = packet(2, PacketType.I1, tlv('01ff 0001 03', `ffda 0010 ${'00'.repeat(16)}`, `ffdc 0004 01020304`));
    expect(bytesToHex(authenticatedBytes(i1, ParamType.RVS_HMAC))).toBe(
      header(2, 1, 72) + tlv('01ff 0001 03', `ffda 0010 ${'00'.repeat(16)}`),
    );
    const relayed = packet(2, PacketType.I1, tlv('01ff 0001 03', `fff0 0004 01020304`));
    expect(bytesToHex(authenticatedBytes(relayed, ParamType.RELAY_HMAC))).toBe(header(2, 1, 48) + tlv('01ff 0001 03'));
  });

  it('v1: the cut is positional, so an out-of-order echo before the HMAC is covered', () => {
    const parts = ['0fff 0004 0000 0001', '03c1 0004 01020304'];
    const close = packet(1, PacketType.I2, tlv(...parts, 'f041 0014 ' + '00'.repeat(20), 'f101 0002 05 aa'));
    expect(bytesToHex(authenticatedBytes(close, ParamType.HIP_MAC))).toBe(header(1, 3, 56) + tlv(...parts));
  });

  it('rejects malformed packets with framing errors', () => {
    expectWireError(() => authenticatedBytes(new Uint8Array(30), ParamType.HIP_MAC), 'ERR_HIP_TRUNCATED');
    const bad = packet(2, PacketType.I2, '0181 0010 00000001');
    expectWireError(() => authenticatedBytes(bad, ParamType.HIP_MAC), 'ERR_HIP_PARAM_TRUNCATED');
  });
});
