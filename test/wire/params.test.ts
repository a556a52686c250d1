import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import {
  ParamType,
  emitPacket,
  emitParam,
  getParam,
  getParams,
  isKnownParamType,
  isModelledParamType,
  parsePacket,
  type HipParam,
  type HipVersion,
} from '../../src/wire/index.js';
import { expectWireError, hx, packet, plain, tlv } from './wire-helpers.js';

const h = hexToBytes;
const rep = (byte: string, n: number) => byte.repeat(n);
const ADDR = '20010db8000000000000000000000001';
const ADDR2 = '00000000000000000000ffffc0000201';

interface Case {
  name: string;
  version: HipVersion;
  /** The whole TLV, padding included, written from the layout in the spec. */
  tlv: string;
  param: HipParam;
}

const cases: Case[] = [
  {
    name: 'ESP_INFO (BEX: old SPI 0, KEYMAT index 72)',
    version: 1,
    tlv: '0041 000c 0000 0048 00000000 8a0b1c2d 00000000',
    param: { type: 65, reserved: 0, keymatIndex: 72, oldSpi: 0, newSpi: 0x8a0b1c2d },
  },
  {
    name: 'R1_COUNTER (v2, 129)',
    version: 2,
    tlv: '0081 000c 00000000 0000000100000005 00000000',
    param: { type: 129, reserved: 0, counter: 0x100000005n },
  },
  {
    name: 'R1_COUNTER (v1, 128) with a non-zero reserved field',
    version: 1,
    tlv: '0080 000c 0000abcd ffffffffffffffff 00000000',
    param: { type: 128, reserved: 0xabcd, counter: 0xffffffffffffffffn },
  },
  {
    name: 'LOCATOR_SET with a type-1 (SPI + address) preferred locator and a type-0 one',
    version: 2,
    tlv: `00c1 0034 00 01 05 01 00000078 11223344 ${ADDR}  02 00 04 00 0000012c ${ADDR2}`,
    param: {
      type: 193,
      locators: [
        { trafficType: 0, locatorType: 1, preferred: true, reserved: 0, lifetime: 120, value: h(`11223344${ADDR}`) },
        { trafficType: 2, locatorType: 0, preferred: false, reserved: 0, lifetime: 300, value: h(ADDR2) },
      ],
    },
  },
  {
    name: 'LOCATOR_SET, empty (deprecates every address)',
    version: 2,
    tlv: '00c1 0000 00000000',
    param: { type: 193, locators: [] },
  },
  {
    name: 'PUZZLE v2 with a 32-byte #I (SHA-256)',
    version: 2,
    tlv: `0101 0024 10 25 3168 ${rep('5c', 32)} 00000000`,
    param: { type: 257, k: 16, lifetime: 37, opaque: 0x3168, i: h(rep('5c', 32)) },
  },
  {
    name: 'PUZZLE v2 with a 48-byte #I (SHA-384)',
    version: 2,
    tlv: `0101 0034 0a 26 0001 ${rep('ab', 48)} 00000000`,
    param: { type: 257, k: 10, lifetime: 38, opaque: 1, i: h(rep('ab', 48)) },
  },
  {
    name: 'PUZZLE v1 (libhipl C4: K 12, lifetime 42, opaque "HI")',
    version: 1,
    tlv: '0101 000c 0c 2a 4849 8237c328d6d714eb 00000000',
    param: { type: 257, k: 12, lifetime: 42, opaque: 0x4849, i: h('8237c328d6d714eb') },
  },
  {
    name: 'SOLUTION v2 with 20-byte #I/#J (SHA-1)',
    version: 2,
    tlv: `0141 002c 08 00 beef ${rep('01', 20)} ${rep('02', 20)} 0000`,
    param: { type: 321, k: 8, reserved: 0, opaque: 0xbeef, i: h(rep('01', 20)), j: h(rep('02', 20)) },
  },
  {
    name: 'SOLUTION v1 (libhipl C4 #I/#J)',
    version: 1,
    tlv: '0141 0014 0c 00 4849 8237c328d6d714eb 16216eba09b50255',
    param: { type: 321, k: 12, reserved: 0, opaque: 0x4849, i: h('8237c328d6d714eb'), j: h('16216eba09b50255') },
  },
  {
    name: 'SEQ',
    version: 2,
    tlv: '0181 0004 00000007',
    param: { type: 385, updateId: 7 },
  },
  {
    name: 'ACK with two update IDs',
    version: 2,
    tlv: '01c1 0008 00000001 fffffffe 00000000',
    param: { type: 449, updateIds: [1, 0xfffffffe] },
  },
  {
    name: 'DH_GROUP_LIST {9,8,7,3,4,10}',
    version: 2,
    tlv: '01ff 0006 09 08 07 03 04 0a 000000000000',
    param: { type: 511, groups: [9, 8, 7, 3, 4, 10] },
  },
  {
    name: 'DIFFIE_HELLMAN v2, one value',
    version: 2,
    tlv: '0201 0007 07 0004 aabbccdd 0000000000',
    param: { type: 513, values: [{ group: 7, publicValue: h('aabbccdd') }] },
  },
  {
    name: 'DIFFIE_HELLMAN v1, two values (group 3 then group 1, as libhipl R1s)',
    version: 1,
    tlv: '0201 0009 03 0002 1111 01 0001 22 000000',
    param: {
      type: 513,
      values: [
        { group: 3, publicValue: h('1111') },
        { group: 1, publicValue: h('22') },
      ],
    },
  },
  {
    name: 'HIP_TRANSFORM v1 [1,2,5] (libhipl R1)',
    version: 1,
    tlv: '0241 0006 0001 0002 0005 000000000000',
    param: { type: 577, suites: [1, 2, 5] },
  },
  {
    name: 'HIP_CIPHER [4,2,1] (CuteHIP R1)',
    version: 2,
    tlv: '0243 0006 0004 0002 0001 000000000000',
    param: { type: 579, ciphers: [4, 2, 1] },
  },
  {
    name: 'NAT_TRAVERSAL_MODE',
    version: 2,
    tlv: '0260 0006 0000 0001 0003 000000000000',
    param: { type: 608, reserved: 0, modes: [1, 3] },
  },
  {
    name: 'TRANSACTION_PACING 500 ms',
    version: 2,
    tlv: '0262 0004 000001f4',
    param: { type: 610, minTa: 500 },
  },
  {
    name: 'ENCRYPTED',
    version: 2,
    tlv: `0281 0014 00000000 ${rep('e1', 16)} 0000`,
    param: { type: 641, reserved: 0, data: h(rep('e1', 16)) },
  },
  {
    name: 'HOST_ID v2: RSA HI (e 65537) with an NAI',
    version: 2,
    tlv: '02c1 0010 0007 2003 0005 03010001aabbcc 782e79 0000 0000 00',
    param: { type: 705, algorithm: 5, hostIdentity: h('03010001aabbcc'), diType: 2, di: h('782e79') },
  },
  {
    name: 'HOST_ID v2 without a DI',
    version: 2,
    tlv: '02c1 000a 0004 0000 0007 00010203 000000000000',
    param: { type: 705, algorithm: 7, hostIdentity: h('00010203'), diType: 0, di: h('') },
  },
  {
    name: 'HOST_ID v1: RDATA header 0202ff05 inside the HI, DI "vm\\0"',
    version: 1,
    tlv: '02c1 000e 0007 1003 0202ff05 aabbcc 766d00 000000000000',
    param: {
      type: 705,
      algorithm: 5,
      hostIdentity: h('aabbcc'),
      diType: 1,
      di: h('766d00'),
      v1Rdata: { flags: 0x0202, protocol: 0xff },
    },
  },
  {
    name: 'HIT_SUITE_LIST 0x10 0x20 0x30',
    version: 2,
    tlv: '02cb 0003 102030 00',
    param: { type: 715, suites: [0x10, 0x20, 0x30] },
  },
  {
    name: 'NOTIFICATION UNSUPPORTED_CRITICAL_PARAMETER_TYPE with the type as data',
    version: 2,
    tlv: '0340 0006 0000 0001 03e9 000000000000',
    param: { type: 832, reserved: 0, notifyType: 1, data: h('03e9') },
  },
  {
    name: 'ECHO_REQUEST_SIGNED',
    version: 1,
    tlv: '0381 0004 deadbeef',
    param: { type: 897, opaque: h('deadbeef') },
  },
  {
    name: 'ECHO_RESPONSE_SIGNED',
    version: 1,
    tlv: '03c1 0004 deadbeef',
    param: { type: 961, opaque: h('deadbeef') },
  },
  {
    name: 'ECHO_RESPONSE_UNSIGNED',
    version: 2,
    tlv: 'f7c1 0001 77 000000',
    param: { type: 63425, opaque: h('77') },
  },
  {
    name: 'ECHO_REQUEST_UNSIGNED, empty',
    version: 2,
    tlv: 'f8ad 0000 00000000',
    param: { type: 63661, opaque: h('') },
  },
  {
    name: 'REG_INFO',
    version: 2,
    tlv: '03a2 0004 60 c8 01 02',
    param: { type: 930, minLifetime: 0x60, maxLifetime: 0xc8, regTypes: [1, 2] },
  },
  {
    name: 'REG_REQUEST',
    version: 2,
    tlv: '03a4 0002 80 01 0000',
    param: { type: 932, lifetime: 0x80, regTypes: [1] },
  },
  {
    name: 'REG_RESPONSE',
    version: 2,
    tlv: '03a6 0003 80 01 02',
    param: { type: 934, lifetime: 0x80, regTypes: [1, 2] },
  },
  {
    name: 'REG_FAILED',
    version: 2,
    tlv: '03a8 0002 01 03 0000',
    param: { type: 936, failureType: 1, regTypes: [3] },
  },
  {
    name: 'REG_FROM',
    version: 2,
    tlv: `03b6 0014 2904 11 00 ${ADDR2} 00000000`,
    param: { type: 950, port: 10500, protocol: 17, reserved: 0, address: h(ADDR2) },
  },
  {
    name: 'TRANSPORT_FORMAT_LIST [ESP]',
    version: 2,
    tlv: '0801 0002 0fff 0000',
    param: { type: 2049, formats: [4095] },
  },
  {
    name: 'ESP_TRANSFORM v1 [0; 1,2,5] (libhipl R1)',
    version: 1,
    tlv: '0fff 0008 0000 0001 0002 0005',
    param: { type: 4095, reserved: 0, suites: [1, 2, 5] },
  },
  {
    name: 'RELAYED_ADDRESS',
    version: 2,
    tlv: `122a 0014 c350 11 00 ${ADDR} 00000000`,
    param: { type: 4650, port: 50000, protocol: 17, reserved: 0, address: h(ADDR) },
  },
  {
    name: 'MAPPED_ADDRESS with a non-zero reserved byte',
    version: 2,
    tlv: `1234 0014 0035 00 7f ${ADDR} 00000000`,
    param: { type: 4660, port: 53, protocol: 0, reserved: 0x7f, address: h(ADDR) },
  },
  {
    name: 'CANDIDATE_PRIORITY',
    version: 2,
    tlv: '125c 0004 7e0001ff',
    param: { type: 4700, priority: 0x7e0001ff },
  },
  {
    name: 'HIP_MAC (20-byte HMAC-SHA1, libhipl C4 I2)',
    version: 1,
    tlv: 'f041 0014 0ab93965a773792111a1bd8028eef0f2d1fae102 00000000',
    param: { type: 61505, mac: h('0ab93965a773792111a1bd8028eef0f2d1fae102') },
  },
  {
    name: 'HIP_MAC_2 (32 bytes)',
    version: 2,
    tlv: `f081 0020 ${rep('c0', 32)} 00000000`,
    param: { type: 61569, mac: h(rep('c0', 32)) },
  },
  {
    name: 'HIP_SIGNATURE_2 v2: 2-byte algorithm',
    version: 2,
    tlv: 'f0c1 0006 0005 a1a2a3a4 0000',
    param: { type: 61633, algorithm: 5, signature: h('a1a2a3a4') },
  },
  {
    name: 'HIP_SIGNATURE v1: 1-byte algorithm',
    version: 1,
    tlv: 'f101 0005 05 a1a2a3a4 000000',
    param: { type: 61697, algorithm: 5, signature: h('a1a2a3a4') },
  },
  {
    name: 'RELAY_FROM',
    version: 2,
    tlv: `f9fe 0014 c000 11 00 ${ADDR} 00000000`,
    param: { type: 63998, port: 0xc000, protocol: 17, reserved: 0, address: h(ADDR) },
  },
  {
    name: 'RELAY_TO',
    version: 2,
    tlv: `fa02 0014 c001 11 00 ${ADDR2} 00000000`,
    param: { type: 64002, port: 0xc001, protocol: 17, reserved: 0, address: h(ADDR2) },
  },
  {
    name: 'FROM',
    version: 2,
    tlv: `ffda 0010 ${ADDR} 00000000`,
    param: { type: 65498, address: h(ADDR) },
  },
  {
    name: 'RVS_HMAC',
    version: 2,
    tlv: `ffdc 0014 ${rep('9a', 20)} 00000000`,
    param: { type: 65500, mac: h(rep('9a', 20)) },
  },
  {
    name: 'VIA_RVS with two addresses',
    version: 2,
    tlv: `ffde 0020 ${ADDR} ${ADDR2} 00000000`,
    param: { type: 65502, addresses: [h(ADDR), h(ADDR2)] },
  },
  {
    name: 'RELAY_HMAC',
    version: 2,
    tlv: `fff0 0014 ${rep('9b', 20)} 00000000`,
    param: { type: 65520, mac: h(rep('9b', 20)) },
  },
  {
    name: 'CERT is kept raw (layout not modelled)',
    version: 2,
    tlv: '0300 0005 0101010100 000000',
    param: { type: 768, raw: true, contents: h('0101010100') },
  },
  {
    name: 'an unknown non-critical type is kept raw',
    version: 2,
    tlv: '03e8 0002 abcd 0000',
    param: { type: 1000, raw: true, contents: h('abcd') },
  },
];

describe('parameter layouts (parse <-> emit against hand-written bytes)', () => {
  for (const c of cases) {
    it(`${c.name}`, () => {
      const bytes = packet(c.version, 3, tlv(c.tlv));
      const pkt = parsePacket(bytes);
      expect(pkt.params).toHaveLength(1);
      expect(plain(pkt.params[0])).toEqual(plain(c.param));
      expect(bytesToHex(emitParam(c.param, c.version))).toBe(tlv(c.tlv));
    });
  }

  it('every modelled parameter type is covered by a case above', () => {
    const covered = new Set(cases.map((c) => c.param.type));
    for (const t of Object.values(ParamType)) {
      if (isModelledParamType(t)) expect(covered.has(t), `type ${t}`).toBe(true);
    }
  });
});

describe('typed access', () => {
  it('getParam returns the first of a type, getParams all of them', () => {
    const pkt = parsePacket(packet(2, 17, tlv('0340 0004 0000 0007', '0340 0004 0000 002a')));
    expect(getParam(pkt, 832)?.notifyType).toBe(7);
    expect(getParams(pkt, 832).map((p) => p.notifyType)).toEqual([7, 42]);
    expect(getParam(pkt, 65)).toBeUndefined();
  });

  it('getParam skips raw parameters of a modelled type number', () => {
    const pkt = parsePacket(packet(2, 17, tlv('0340 0004 0000 0007')));
    pkt.params.unshift({ type: 832, raw: true, contents: new Uint8Array(0) });
    expect(getParam(pkt, 832)?.notifyType).toBe(7);
    expect(getParams(pkt, 832)).toHaveLength(1);
  });

  it('knows which types are modelled and which are only known', () => {
    expect(isModelledParamType(ParamType.PUZZLE)).toBe(true);
    expect(isModelledParamType(ParamType.CERT)).toBe(false);
    expect(isKnownParamType(ParamType.CERT)).toBe(true);
    expect(isKnownParamType(ParamType.NOMINATE)).toBe(true);
    expect(isKnownParamType(1000)).toBe(false);
  });
});

describe('parameter length rules (ERR_HIP_PARAM_LENGTH)', () => {
  const bad: [string, HipVersion, string][] = [
    ['ESP_INFO of 8 bytes', 2, '0041 0008 0000000000000000'],
    ['R1_COUNTER of 8 bytes', 2, '0081 0008 0000000000000000'],
    ['SEQ of 8 bytes', 2, '0181 0008 0000000000000000'],
    ['ACK of 6 bytes', 2, '01c1 0006 000000010000 0000'],
    ['empty ACK', 2, '01c1 0000 00000000'],
    ['TRANSACTION_PACING of 2 bytes', 2, '0262 0002 0000 0000'],
    ['CANDIDATE_PRIORITY of 8 bytes', 2, '125c 0008 0000000000000000'],
    ['PUZZLE v2 with a 16-byte #I', 2, `0101 0014 00000000 ${rep('00', 16)}`],
    ['PUZZLE v2 with an 8-byte #I (v1 length)', 2, `0101 000c 00000000 ${rep('00', 8)} 00000000`],
    ['PUZZLE v1 with a 32-byte #I', 1, `0101 0024 00000000 ${rep('00', 32)} 00000000`],
    ['SOLUTION v2 with an odd #I/#J length', 2, `0141 0029 00000000 ${rep('00', 37)} 000000`],
    ['SOLUTION v2 with 16-byte #I/#J', 2, `0141 0024 00000000 ${rep('00', 32)} 00000000`],
    ['SOLUTION v1 of 44 bytes', 1, `0141 002c 00000000 ${rep('00', 40)} 0000`],
    ['HIP_CIPHER of odd length', 2, '0243 0003 000200'],
    ['ESP_TRANSFORM without its reserved field', 2, '0fff 0001 00 000000'],
    ['NAT_TRAVERSAL_MODE of odd length', 2, '0260 0003 000001'],
    ['TRANSPORT_FORMAT_LIST of odd length', 2, '0801 0001 0f 000000'],
    ['ENCRYPTED shorter than its reserved field', 2, '0281 0002 0000 0000'],
    ['NOTIFICATION of 3 bytes', 2, '0340 0003 000001'],
    ['REG_INFO of 1 byte', 2, '03a2 0001 60 000000'],
    ['empty REG_REQUEST', 2, '03a4 0000 00000000'],
    ['empty REG_FAILED', 2, '03a8 0000 00000000'],
    ['REG_FROM of 16 bytes', 2, `03b6 0010 ${ADDR} 00000000`],
    ['FROM of 20 bytes', 2, `ffda 0014 ${ADDR} 00000000 00000000`],
    ['VIA_RVS of 20 bytes', 2, `ffde 0014 ${ADDR} 00000000 00000000`],
    ['HIP_SIGNATURE v2 of 1 byte', 2, 'f101 0001 05 000000'],
    ['HIP_SIGNATURE v1 of 0 bytes', 1, 'f101 0000 00000000'],
    ['DIFFIE_HELLMAN value longer than the parameter', 2, '0201 0005 07 0004 aabb 000000'],
    ['DIFFIE_HELLMAN value header cut short', 2, '0201 0002 0700 0000'],
    ['empty DIFFIE_HELLMAN', 2, '0201 0000 00000000'],
    ['DIFFIE_HELLMAN v2 with two values', 2, '0201 0008 03 0001 11 01 0001 22 00000000'],
    ['DIFFIE_HELLMAN v1 with three values', 1, '0201 000c 03 0001 11 01 0001 22 03 0001 33 00000000'],
    ['HOST_ID v2 whose HI length overruns', 2, '02c1 000a 0008 0000 0005 00010203 000000000000'],
    ['HOST_ID v2 with bytes after the DI', 2, '02c1 000b 0004 0000 0005 00010203 ff 0000000000'],
    ['HOST_ID v2 shorter than its fixed fields', 2, '02c1 0004 0000 0000'],
    ['HOST_ID v1 with HI length below the RDATA header', 1, '02c1 0007 0003 0000 0202ff'],
    ['LOCATOR_SET with a record cut short', 2, '00c1 0004 00010501'],
    ['LOCATOR_SET whose locator overruns', 2, `00c1 000c 00 00 04 00 00000078 ${rep('00', 4)}`],
  ];
  for (const [name, version, t] of bad) {
    it(name, () => {
      const e = expectWireError(() => parsePacket(packet(version, 16, tlv(t))), 'ERR_HIP_PARAM_LENGTH');
      expect(e.details?.paramType).toBe(parseInt(hx(t).slice(0, 4), 16));
    });
  }
});

describe('padding', () => {
  it('ignores non-zero padding on receive but keeps it so the packet re-emits exactly', () => {
    const bytes = packet(2, 16, '0181 0004 00000007 f8ad 0001 77 abcdef');
    const pkt = parsePacket(bytes);
    expect(plain(pkt.params)).toEqual([
      { type: 385, updateId: 7 },
      { type: 63661, opaque: 'hex:77', padding: 'hex:abcdef' },
    ]);
    expect(bytesToHex(emitPacket(pkt))).toBe(bytesToHex(bytes));
  });

  it('zero padding is not recorded', () => {
    const pkt = parsePacket(packet(2, 16, '0181 0004 00000007 f8ad 0001 77 000000'));
    expect('padding' in pkt.params[1]!).toBe(false);
  });

  it('padding of the wrong length (the contents changed) is replaced by zeros', () => {
    const p: HipParam = { type: 63661, opaque: h('7788'), padding: h('abcdef') };
    expect(bytesToHex(emitParam(p, 2))).toBe(hx('f8ad 0002 7788 0000'));
  });

  it('a TLV size is 8-byte aligned: 11 + L - (L + 3) % 8', () => {
    for (let len = 0; len < 40; len++) {
      const size = emitParam({ type: 897, opaque: new Uint8Array(len) }, 2).length;
      expect(size).toBe(11 + len - ((len + 3) % 8));
    }
  });
});

describe('emission validation (ERR_HIP_BAD_FIELD, ERR_HIP_PARAM_TOO_LONG)', () => {
  const badFields: [string, HipVersion, unknown][] = [
    ['SEQ updateId above 32 bits', 2, { type: 385, updateId: 2 ** 32 }],
    ['SEQ updateId not an integer', 2, { type: 385, updateId: 1.5 }],
    ['ESP_INFO negative SPI', 2, { type: 65, reserved: 0, keymatIndex: 0, oldSpi: -1, newSpi: 0 }],
    ['R1_COUNTER counter as a number', 2, { type: 129, reserved: 0, counter: 5 }],
    ['R1_COUNTER counter above 64 bits', 2, { type: 129, reserved: 0, counter: 2n ** 64n }],
    ['PUZZLE v2 with an 8-byte #I', 2, { type: 257, k: 1, lifetime: 1, opaque: 0, i: new Uint8Array(8) }],
    ['PUZZLE v1 with a 32-byte #I', 1, { type: 257, k: 1, lifetime: 1, opaque: 0, i: new Uint8Array(32) }],
    ['PUZZLE #I not bytes', 2, { type: 257, k: 1, lifetime: 1, opaque: 0, i: [1, 2] }],
    ['SOLUTION #J of another length', 2, { type: 321, k: 1, reserved: 0, opaque: 0, i: new Uint8Array(32), j: new Uint8Array(20) }],
    ['empty ACK', 2, { type: 449, updateIds: [] }],
    ['DH group above 8 bits', 2, { type: 513, values: [{ group: 256, publicValue: new Uint8Array(1) }] }],
    ['DH v2 with two values', 2, { type: 513, values: [{ group: 3, publicValue: new Uint8Array(1) }, { group: 1, publicValue: new Uint8Array(1) }] }],
    ['DH without values', 1, { type: 513, values: [] }],
    ['DH values not an array', 1, { type: 513, values: 3 }],
    ['HIP_CIPHER id above 16 bits', 2, { type: 579, ciphers: [0x10000] }],
    ['HIP_CIPHER ciphers not an array', 2, { type: 579, ciphers: 'x' }],
    ['HOST_ID DI longer than 4095', 2, { type: 705, algorithm: 5, hostIdentity: new Uint8Array(1), diType: 1, di: new Uint8Array(4096) }],
    ['HOST_ID diType above 4 bits', 2, { type: 705, algorithm: 5, hostIdentity: new Uint8Array(1), diType: 16, di: new Uint8Array(0) }],
    ['HOST_ID v1 algorithm above 8 bits', 1, { type: 705, algorithm: 256, hostIdentity: new Uint8Array(1), diType: 0, di: new Uint8Array(0) }],
    ['HOST_ID v1 RDATA protocol above 8 bits', 1, { type: 705, algorithm: 5, hostIdentity: new Uint8Array(1), diType: 0, di: new Uint8Array(0), v1Rdata: { flags: 0, protocol: 300 } }],
    ['address of 4 bytes', 2, { type: 950, port: 1, protocol: 17, reserved: 0, address: new Uint8Array(4) }],
    ['FROM of 4 bytes', 2, { type: 65498, address: new Uint8Array(4) }],
    ['VIA_RVS with a short address', 2, { type: 65502, addresses: [new Uint8Array(15)] }],
    ['VIA_RVS addresses not an array', 2, { type: 65502, addresses: null }],
    ['LOCATOR_SET value not a multiple of 4', 2, { type: 193, locators: [{ trafficType: 0, locatorType: 0, preferred: false, reserved: 0, lifetime: 1, value: new Uint8Array(3) }] }],
    ['LOCATOR_SET reserved above 7 bits', 2, { type: 193, locators: [{ trafficType: 0, locatorType: 0, preferred: false, reserved: 128, lifetime: 1, value: new Uint8Array(4) }] }],
    ['LOCATOR_SET type 1 of 16 bytes (would read back as HIPL\'s 20-byte form)', 2, { type: 193, locators: [{ trafficType: 0, locatorType: 1, preferred: false, reserved: 0, lifetime: 1, value: new Uint8Array(16) }] }],
    ['LOCATOR_SET locators not an array', 2, { type: 193, locators: {} }],
    ['raw param type above 16 bits', 2, { type: 70000, raw: true, contents: new Uint8Array(0) }],
    ['an unmodelled type not marked raw', 2, { type: 768, contents: new Uint8Array(0) }],
    ['not an object', 2, null],
  ];
  for (const [name, version, p] of badFields) {
    it(name, () => {
      expectWireError(() => emitParam(p as HipParam, version), 'ERR_HIP_BAD_FIELD');
    });
  }

  it('contents over 65535 bytes: ERR_HIP_PARAM_TOO_LONG', () => {
    const e = expectWireError(
      () => emitParam({ type: 897, opaque: new Uint8Array(65536) }, 2),
      'ERR_HIP_PARAM_TOO_LONG',
    );
    expect(e.details?.paramType).toBe(897);
  });

  it('a DH public value over 65535 bytes is refused before the TLV length', () => {
    expectWireError(
      () => emitParam({ type: 513, values: [{ group: 3, publicValue: new Uint8Array(65536) }] }, 2),
      'ERR_HIP_BAD_FIELD',
    );
  });

  it('HOST_ID v1 without v1Rdata gets libhipl flags 0x0202 and protocol 0xff', () => {
    const tlv = emitParam({ type: 705, algorithm: 5, hostIdentity: h('03010001'), diType: 0, di: h('') }, 1);
    expect(bytesToHex(tlv)).toBe(hx('02c1 000c 0008 0000 0202ff05 03010001'));
  });
});
