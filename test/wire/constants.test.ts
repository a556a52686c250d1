import { describe, expect, it } from 'vitest';
import {
  CONTROL_ANONYMOUS,
  DhGroup,
  EspSuite,
  HIP_HEADER_LENGTH,
  HIP_MAX_PACKET,
  HIP_PROTOCOL,
  HIP_UDP_PORT,
  HiAlgorithm,
  HitSuite,
  NEXT_HEADER_NONE,
  NotifyType,
  PacketType,
  ParamType,
  isCritical,
  isKnownPacketType,
  isKnownParamType,
  notifyTypeName,
  packetTypeName,
  paramTypeName,
} from '../../src/wire/index.js';

// Values as listed in HIP-DIGEST 1.2, 1.4, 1.6, 2.x (IANA registries).
describe('protocol numbers', () => {
  it('basic constants', () => {
    expect([HIP_PROTOCOL, NEXT_HEADER_NONE, HIP_UDP_PORT, HIP_HEADER_LENGTH, HIP_MAX_PACKET, CONTROL_ANONYMOUS]).toEqual([
      139, 59, 10500, 40, 2048, 1,
    ]);
  });

  it('packet types and names', () => {
    expect(PacketType).toEqual({ I1: 1, R1: 2, I2: 3, R2: 4, UPDATE: 16, NOTIFY: 17, CLOSE: 18, CLOSE_ACK: 19 });
    expect(packetTypeName(19)).toBe('CLOSE_ACK');
    expect(packetTypeName(20)).toBe('UNKNOWN(20)');
    expect(isKnownPacketType(16)).toBe(true);
    expect(isKnownPacketType(5)).toBe(false);
  });

  it('parameter types: critical bit matches the registry column C', () => {
    const critical = [65, 129, 193, 257, 321, 385, 449, 511, 513, 579, 641, 705, 715, 897, 961, 2049, 4095, 61505, 61569, 61633, 61697, 63425, 63661];
    const nonCritical = [128, 608, 610, 768, 832, 930, 932, 934, 936, 950, 4650, 4660, 4680, 4700, 4710, 63998, 64002, 65498, 65500, 65502, 65520];
    for (const t of critical) expect(isCritical(t), `${t}`).toBe(true);
    for (const t of nonCritical) expect(isCritical(t), `${t}`).toBe(false);
    // 577 (v1 HIP_TRANSFORM) is odd as well.
    expect(isCritical(ParamType.HIP_TRANSFORM)).toBe(true);
    const all = new Set(Object.values(ParamType));
    expect(all.size).toBe(critical.length + nonCritical.length + 1);
  });

  it('parameter names', () => {
    expect(paramTypeName(61633)).toBe('HIP_SIGNATURE_2');
    expect(paramTypeName(128)).toBe('R1_COUNTER_V1');
    expect(paramTypeName(1000)).toBe('UNKNOWN(1000)');
    expect(isKnownParamType(4710)).toBe(true);
    expect(isKnownParamType(4711)).toBe(false);
  });

  it('notify types', () => {
    expect(NotifyType.UNSUPPORTED_CRITICAL_PARAMETER_TYPE).toBe(1);
    expect(NotifyType.I2_ACKNOWLEDGEMENT).toBe(16384);
    expect(NotifyType.NAT_KEEPALIVE).toBe(16385);
    expect(Object.keys(NotifyType)).toHaveLength(27);
    expect(notifyTypeName(44)).toBe('RESPONDER_BUSY_PLEASE_RETRY');
    expect(notifyTypeName(2)).toBe('UNKNOWN(2)');
  });

  it('suite and algorithm tables', () => {
    expect(DhGroup.MODP_1536).toBe(3);
    expect(DhGroup.MODP_2048).toBe(11);
    expect(HitSuite).toEqual({ RSA_DSA_SHA256: 1, ECDSA_SHA384: 2, ECDSA_LOW_SHA1: 3, EDDSA_CSHAKE128: 5 });
    expect(HiAlgorithm).toEqual({ DSA: 3, RSA: 5, ECDSA: 7, ECDSA_LOW: 9, EDDSA: 13 });
    expect(EspSuite.AES128_CBC_SHA256).toBe(8);
    expect(EspSuite.AES_GMAC).toBe(15);
  });

  it('tables are frozen', () => {
    expect(Object.isFrozen(ParamType)).toBe(true);
    expect(Object.isFrozen(PacketType)).toBe(true);
  });
});
