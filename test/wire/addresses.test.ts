import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import {
  LocatorType,
  decodeLocatorValue,
  emitParam,
  encodeLocatorValue,
  mapIpv4,
  parsePacket,
  unmapIpv4,
  type LocatorSetParam,
} from '../../src/wire/index.js';
import { expectWireError, hx, packet, plain } from './wire-helpers.js';

const V6 = '20010db8000000000000000000000001';
const MAPPED = '00000000000000000000ffffc0000201';

describe('locator values', () => {
  it('type 0: a plain address', () => {
    expect(plain(decodeLocatorValue({ locatorType: 0, value: hexToBytes(V6) }))).toEqual({ locatorType: 0, address: `hex:${V6}` });
  });

  it('type 1: SPI + address', () => {
    expect(plain(decodeLocatorValue({ locatorType: 1, value: hexToBytes(`8a0b1c2d${V6}`) }))).toEqual({
      locatorType: 1,
      spi: 0x8a0b1c2d,
      address: `hex:${V6}`,
    });
  });

  it('type 2: RFC 5770 transport address (port, protocol, kind, priority, SPI, address)', () => {
    const value = hexToBytes(`2904 11 01 7e0001ff 00000010 ${MAPPED}`);
    expect(plain(decodeLocatorValue({ locatorType: 2, value }))).toEqual({
      locatorType: 2,
      port: 10500,
      protocol: 17,
      kind: 1,
      priority: 0x7e0001ff,
      spi: 16,
      address: `hex:${MAPPED}`,
    });
  });

  it('encodes back to the same bytes, and the result fits a LOCATOR_SET record', () => {
    const cases = [
      hexToBytes(V6),
      hexToBytes(`8a0b1c2d${V6}`),
      hexToBytes(`2904 11 01 7e0001ff 00000010 ${MAPPED}`),
    ];
    cases.forEach((value, t) => {
      const enc = encodeLocatorValue(decodeLocatorValue({ locatorType: t, value }));
      expect(enc.locatorType).toBe(t);
      expect(bytesToHex(enc.value)).toBe(bytesToHex(value));
    });
    const enc = encodeLocatorValue({ locatorType: 1, spi: 0x11223344, address: hexToBytes(V6) });
    const param: LocatorSetParam = {
      type: 193,
      locators: [{ trafficType: 0, ...enc, preferred: true, reserved: 0, lifetime: 120 }],
    };
    const tlv = emitParam(param, 2);
    expect(bytesToHex(tlv)).toBe(hx(`00c1 001c 00 01 05 01 00000078 11223344 ${V6}`));
    const back = parsePacket(packet(2, 16, bytesToHex(tlv)));
    const loc = (back.params[0] as LocatorSetParam).locators[0]!;
    expect(plain(decodeLocatorValue(loc))).toEqual({ locatorType: 1, spi: 0x11223344, address: `hex:${V6}` });
  });

  it('ERR_HIP_UNKNOWN_LOCATOR_TYPE and ERR_HIP_PARAM_LENGTH on decode', () => {
    expectWireError(() => decodeLocatorValue({ locatorType: 3, value: new Uint8Array(16) }), 'ERR_HIP_UNKNOWN_LOCATOR_TYPE');
    expectWireError(() => decodeLocatorValue({ locatorType: 1, value: new Uint8Array(16) }), 'ERR_HIP_PARAM_LENGTH');
  });

  it('ERR_HIP_UNKNOWN_LOCATOR_TYPE and ERR_HIP_BAD_FIELD on encode', () => {
    expectWireError(
      () => encodeLocatorValue({ locatorType: 7 as 0, address: new Uint8Array(16) }),
      'ERR_HIP_UNKNOWN_LOCATOR_TYPE',
    );
    expectWireError(() => encodeLocatorValue({ locatorType: 0, address: new Uint8Array(4) }), 'ERR_HIP_BAD_FIELD');
    expectWireError(
      () => encodeLocatorValue({ locatorType: 2, port: 70000, protocol: 17, kind: 0, priority: 0, spi: 0, address: new Uint8Array(16) }),
      'ERR_HIP_BAD_FIELD',
    );
  });

  it('LocatorType names the three types', () => {
    expect(LocatorType).toEqual({ ADDRESS: 0, ESP_SPI_ADDRESS: 1, TRANSPORT: 2 });
  });
});

describe('IPv4-mapped addresses', () => {
  it('maps 192.0.2.1 to ::ffff:192.0.2.1 and back', () => {
    const m = mapIpv4(new Uint8Array([192, 0, 2, 1]));
    expect(bytesToHex(m)).toBe(MAPPED);
    expect([...unmapIpv4(m)!]).toEqual([192, 0, 2, 1]);
  });

  it('copies a 16-byte address unchanged; unmap refuses non-mapped ones', () => {
    const v6 = hexToBytes(V6);
    const m = mapIpv4(v6);
    expect(bytesToHex(m)).toBe(V6);
    expect(m).not.toBe(v6);
    expect(unmapIpv4(v6)).toBeUndefined();
    expect(unmapIpv4(hexToBytes('00000000000000000000fffec0000201'))).toBeUndefined();
    expect(unmapIpv4(new Uint8Array(4))).toBeUndefined();
  });

  it('ERR_HIP_BAD_ADDRESS for other lengths', () => {
    expectWireError(() => mapIpv4(new Uint8Array(5)), 'ERR_HIP_BAD_ADDRESS');
  });
});
