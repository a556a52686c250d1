import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexToBytes, concatBytes } from '../../src/bytes.js';
import { HipWireError } from '../../src/errors.js';
import {
  decodeFrameIp,
  extractEspPackets,
  extractHipPackets,
  formatIpAddress,
  readCapture,
  type CapturedFrame,
} from '../../src/wire/pcap.js';
import { runTshark, skipWithoutTshark } from '../helpers/tshark.js';

const CAPTURES = CAPTURES_DIR;
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(CAPTURES, name)));
const hipType = (hip: Uint8Array): number => hip[2]! & 0x7f;

// The IPv4 datagram of frame 3 of cutehip-v2-rawip-bex.pcap (an I1, IP protocol 139), as
// shown by `tshark -x`: 20-byte IPv4 header then a 56-byte HIPv2 I1 with DH_GROUP_LIST.
const CUTEHIP_I1_IP = hexToBytes(
  '4500004cd016000080 8b68a0c0a84010c0a8400f' +
    '3b060121645500002001002117ff0234b200ad270767f466200100211010fb60685eada017cf5987' +
    '01ff000607090803040a000000000000',
);
const CUTEHIP_I1 = CUTEHIP_I1_IP.subarray(20);

describe('readCapture on the reference captures', () => {
  // Expected values below were read with tshark 4.0 (`tshark -r FILE -d udp.port==P,hip`), and
  // for TCP by looking at the segment payloads (`-T fields -e tcp.payload`): Wireshark has no
  // HIP-over-TCP dissector.
  const udpCases: Array<[string, number[], number[], [number, number]]> = [
    ['libhipl-v1-udp-bex.pcap', [1, 2, 3, 4, 7, 8], [1, 2, 3, 4, 18, 18], [22345, 22300]],
    ['libhipl-v1-udp-bex-close.pcap', [1, 2, 3, 4, 7, 8], [1, 2, 3, 4, 18, 19], [22345, 22300]],
    ['libhipl-v1-udp-k12.pcap', [1, 2, 3, 4, 7, 8], [1, 2, 3, 4, 18, 19], [22445, 22400]],
    ['libhipl-v1-udp-k12-swapped.pcap', [1, 2, 3, 4, 7, 8], [1, 2, 3, 4, 18, 19], [22545, 22500]],
  ];

  for (const [file, frameNumbers, types, [initPort, respPort]] of udpCases) {
    it(`${file}: 8 frames, HIP in ${frameNumbers.join(',')}`, () => {
      const frames = readCapture(load(file));
      expect(frames).toHaveLength(8);
      expect(frames.every((f) => f.linkType === 1)).toBe(true);
      const hip = extractHipPackets(frames);
      expect(hip.map((h) => h.frameIndex + 1)).toEqual(frameNumbers);
      expect(hip.map((h) => hipType(h.hip))).toEqual(types);
      expect(hip.every((h) => h.carrier === 'udp' && h.src === '127.0.0.1' && h.dst === '127.0.0.1')).toBe(true);
      expect([hip[0]!.srcPort, hip[0]!.dstPort]).toEqual([initPort, respPort]);
      expect([hip[1]!.srcPort, hip[1]!.dstPort]).toEqual([respPort, initPort]);
      // Every HIP packet is exactly (header length + 1) * 8 bytes and HIPv1.
      for (const h of hip) {
        expect(h.hip.length).toBe((h.hip[1]! + 1) * 8);
        expect(h.hip[3]).toBe(0x11);
      }
      // libhipl sends "Hello Sailor!" in clear on the HIP flow: not ESP.
      expect(extractEspPackets(frames)).toEqual([]);
    });
  }

  it('libhipl-v1-udp-bex.pcap: timestamps in ns (tshark frame.time_epoch)', () => {
    const frames = readCapture(load('libhipl-v1-udp-bex.pcap'));
    expect(frames[0]!.timestampNs).toBe(1795440338_834021000n);
    expect(frames[1]!.timestampNs).toBe(1795440338_834232000n);
  });

  it('libhipl-v1-check_libhipl-udp-tcp.pcap: 5 HIP packets over UDP, 5 over bare TCP', () => {
    const frames = readCapture(load('libhipl-v1-check_libhipl-udp-tcp.pcap'));
    expect(frames).toHaveLength(18);
    const hip = extractHipPackets(frames);
    expect(hip.map((h) => `${h.frameIndex + 1}/${h.carrier}/${hipType(h.hip)}`)).toEqual([
      '1/udp/1',
      '2/udp/2',
      '3/udp/3',
      '4/udp/4',
      '6/udp/18',
      // TCP segment payload lengths 44, 636, 612, 220, 212: marker + one HIP packet each.
      '10/tcp/1',
      '12/tcp/2',
      '14/tcp/3',
      '15/tcp/4',
      '17/tcp/18',
    ]);
    expect(hip.filter((h) => h.carrier === 'tcp').map((h) => h.hip.length)).toEqual([40, 632, 608, 216, 208]);
    const i1 = hip[5]!;
    expect([i1.srcPort, i1.dstPort]).toEqual([22345, 22300]);
    // Frame 16 is 13 bytes of application data on the TCP flow: neither HIP nor ESP.
    expect(extractEspPackets(frames)).toEqual([]);
  });

  it('cutehip-v2-rawip-bex.pcap: 4 raw-IP HIP packets and 6 ESP packets among SSH noise', () => {
    const frames = readCapture(load('cutehip-v2-rawip-bex.pcap'));
    expect(frames).toHaveLength(81);
    const hip = extractHipPackets(frames);
    expect(hip.map((h) => h.frameIndex + 1)).toEqual([3, 20, 23, 40]);
    expect(hip.map((h) => hipType(h.hip))).toEqual([1, 2, 3, 4]);
    expect(hip.every((h) => h.carrier === 'ip' && h.srcPort === undefined)).toBe(true);
    expect(hip[0]!.src).toBe('192.168.64.16');
    expect(hip[0]!.dst).toBe('192.168.64.15');
    expect(hip[0]!.srcAddress).toEqual(Uint8Array.of(192, 168, 64, 16));
    expect(hip[0]!.hip).toEqual(CUTEHIP_I1);
    const esp = extractEspPackets(frames);
    expect(esp.map((e) => e.frameIndex + 1)).toEqual([43, 53, 57, 59, 68, 75]);
    for (const e of esp) {
      expect(e.carrier).toBe('ip');
      expect(e.esp.subarray(0, 4)).toEqual(hexToBytes('281f460f'));
    }
  });

  it.skipIf(skipWithoutTshark())('agrees with tshark on frame counts and HIP frames', async () => {
    const ports = [22300, 22345, 22400, 22445, 22500, 22545].flatMap((p) => ['-d', `udp.port==${p},hip`]);
    for (const file of [
      'libhipl-v1-udp-bex.pcap',
      'libhipl-v1-udp-bex-close.pcap',
      'libhipl-v1-udp-k12.pcap',
      'libhipl-v1-udp-k12-swapped.pcap',
      'libhipl-v1-check_libhipl-udp-tcp.pcap',
      'cutehip-v2-rawip-bex.pcap',
    ]) {
      const path = join(CAPTURES, file);
      const all = await runTshark(['-r', path, '-T', 'fields', '-e', 'frame.number']);
      const out = await runTshark(['-r', path, ...ports, '-Y', 'hip', '-T', 'fields', '-e', 'frame.number', '-e', 'hip.packet_type']);
      const theirs = out.trim().split('\n').map((l) => l.split('\t').map(Number));
      const frames = readCapture(load(file));
      expect(frames).toHaveLength(all.trim().split('\n').length);
      const ours = extractHipPackets(frames).filter((h) => h.carrier !== 'tcp');
      expect(ours.map((h) => [h.frameIndex + 1, hipType(h.hip)])).toEqual(theirs);
      const esp = await runTshark(['-r', path, '-Y', 'esp', '-T', 'fields', '-e', 'frame.number']);
      const espFrames = esp.trim() === '' ? [] : esp.trim().split('\n').map(Number);
      expect(extractEspPackets(frames).map((e) => e.frameIndex + 1)).toEqual(espFrames);
    }
  });
});

/** A classic pcap file built by hand: global header + records, chosen byte order and magic. */
function pcapFile(
  linkType: number,
  packets: Array<{ sec: number; frac: number; data: Uint8Array; orig?: number }>,
  opts: { bigEndian?: boolean; nano?: boolean } = {},
): Uint8Array {
  const le = !opts.bigEndian;
  const parts: Uint8Array[] = [];
  const hdr = new DataView(new ArrayBuffer(24));
  hdr.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  hdr.setUint16(4, 2, le);
  hdr.setUint16(6, 4, le);
  hdr.setUint32(16, 65535, le);
  hdr.setUint32(20, linkType, le);
  parts.push(new Uint8Array(hdr.buffer));
  for (const p of packets) {
    const r = new DataView(new ArrayBuffer(16));
    r.setUint32(0, p.sec, le);
    r.setUint32(4, p.frac, le);
    r.setUint32(8, p.data.length, le);
    r.setUint32(12, p.orig ?? p.data.length, le);
    parts.push(new Uint8Array(r.buffer), p.data);
  }
  return concatBytes(...parts);
}

const frame = (linkType: number, data: Uint8Array): CapturedFrame => ({ index: 0, timestampNs: 0n, linkType, data });

describe('readCapture: classic pcap variants', () => {
  it('reads little- and big-endian, µs and ns files alike', () => {
    for (const bigEndian of [false, true]) {
      for (const nano of [false, true]) {
        const file = pcapFile(101, [{ sec: 1700000000, frac: 123456, data: CUTEHIP_I1_IP }], { bigEndian, nano });
        const [f, ...rest] = readCapture(file);
        expect(rest).toEqual([]);
        expect(f!.linkType).toBe(101);
        expect(f!.data).toEqual(CUTEHIP_I1_IP);
        expect(f!.timestampNs).toBe(1700000000_000000000n + (nano ? 123456n : 123456000n));
      }
    }
  });

  it('an empty capture (header only) has no frames', () => {
    expect(readCapture(pcapFile(1, []))).toEqual([]);
  });

  it('masks the FCS bits out of the link-type word', () => {
    const file = pcapFile(0x1000_0000 | 101, [{ sec: 1, frac: 0, data: CUTEHIP_I1_IP }]);
    expect(readCapture(file)[0]!.linkType).toBe(101);
  });

  it('rejects a wrong magic with ERR_PCAP_BAD_MAGIC', () => {
    const bad = hexToBytes('7f454c46 02010100 00000000 00000000 00000000 00000000');
    expect(() => readCapture(bad)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_BAD_MAGIC' }));
    expect(() => readCapture(bad)).toThrow(HipWireError);
  });

  it('rejects a cut header or record with ERR_PCAP_TRUNCATED', () => {
    const file = pcapFile(1, [{ sec: 1, frac: 0, data: CUTEHIP_I1_IP }]);
    for (const len of [2, 10, 24 + 8, file.length - 1]) {
      expect(() => readCapture(file.subarray(0, len))).toThrow(
        expect.objectContaining({ code: 'ERR_PCAP_TRUNCATED' }),
      );
    }
  });
});

describe('decodeFrameIp / extractHipPackets: link types', () => {
  const eth = (type: number, ip: Uint8Array, vlan = false): Uint8Array =>
    concatBytes(
      hexToBytes('0e32ce7de5c5 0e32ce7de5c6'),
      vlan ? Uint8Array.of(0x81, 0x00, 0x00, 0x05) : new Uint8Array(0),
      Uint8Array.of(type >> 8, type & 0xff),
      ip,
      new Uint8Array(6), // Ethernet padding after the IP datagram
    );
  const sll = (ip: Uint8Array): Uint8Array => concatBytes(hexToBytes('0000 0304 0006 000000000000 0000 0800'), ip);
  const sll2 = (ip: Uint8Array): Uint8Array =>
    concatBytes(hexToBytes('0800 0000 00000001 0304 00 06 0000000000000000'), ip);
  const cases: Array<[string, number, Uint8Array]> = [
    ['BSD null (little-endian AF_INET)', 0, concatBytes(Uint8Array.of(2, 0, 0, 0), CUTEHIP_I1_IP)],
    ['OpenBSD loop', 108, concatBytes(Uint8Array.of(0, 0, 0, 2), CUTEHIP_I1_IP)],
    ['Ethernet', 1, eth(0x0800, CUTEHIP_I1_IP)],
    ['Ethernet + 802.1Q', 1, eth(0x0800, CUTEHIP_I1_IP, true)],
    ['raw IP', 101, CUTEHIP_I1_IP],
    ['raw IPv4', 228, CUTEHIP_I1_IP],
    ['Linux SLL', 113, sll(CUTEHIP_I1_IP)],
    ['Linux SLL2', 276, sll2(CUTEHIP_I1_IP)],
  ];
  for (const [name, linkType, data] of cases) {
    it(`finds the raw-IP I1 behind ${name} (${linkType})`, () => {
      const ip = decodeFrameIp(frame(linkType, data));
      expect(ip).not.toBeNull();
      expect(ip!.protocol).toBe(139);
      expect(ip!.payload).toEqual(CUTEHIP_I1); // Ethernet padding cut by the IP total length
      const [h, ...rest] = extractHipPackets([frame(linkType, data)]);
      expect(rest).toEqual([]);
      expect(h!.hip).toEqual(CUTEHIP_I1);
      expect(h!.src).toBe('192.168.64.16');
    });
  }

  it('returns null for a non-IP frame (ARP)', () => {
    expect(decodeFrameIp(frame(1, eth(0x0806, new Uint8Array(28))))).toBeNull();
  });

  it('throws ERR_PCAP_UNSUPPORTED_LINKTYPE for unknown link types; extract* skip those frames', () => {
    const f = frame(147, CUTEHIP_I1_IP);
    expect(() => decodeFrameIp(f)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_UNSUPPORTED_LINKTYPE' }));
    expect(extractHipPackets([f, { ...frame(101, CUTEHIP_I1_IP), index: 1 }]).map((h) => h.frameIndex)).toEqual([1]);
  });

  it('throws ERR_PCAP_TRUNCATED for a cut Ethernet or IP header', () => {
    expect(() => decodeFrameIp(frame(1, new Uint8Array(10)))).toThrow(
      expect.objectContaining({ code: 'ERR_PCAP_TRUNCATED' }),
    );
    expect(() => decodeFrameIp(frame(101, CUTEHIP_I1_IP.subarray(0, 12)))).toThrow(
      expect.objectContaining({ code: 'ERR_PCAP_TRUNCATED' }),
    );
  });

  it('skips IPv4 fragments', () => {
    const frag = CUTEHIP_I1_IP.slice();
    frag[6] = 0x20; // more fragments
    expect(decodeFrameIp(frame(101, frag))!.fragment).toBe(true);
    expect(extractHipPackets([frame(101, frag)])).toEqual([]);
  });
});

/** IPv6 + hop-by-hop options + UDP around `payload` (checksums left 0: the reader ignores them). */
function ipv6Udp(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const udpLen = 8 + payload.length;
  const hbh = hexToBytes('11 00 0104 00000000'); // next header UDP, 8 bytes, PadN
  const hdr = new DataView(new ArrayBuffer(40));
  hdr.setUint32(0, 0x60000000);
  hdr.setUint16(4, hbh.length + udpLen);
  hdr.setUint8(6, 0); // hop-by-hop
  hdr.setUint8(7, 64);
  const ip = new Uint8Array(hdr.buffer);
  ip.set(hexToBytes(src), 8);
  ip.set(hexToBytes(dst), 24);
  const udp = Uint8Array.of(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0);
  return concatBytes(ip, hbh, udp, payload);
}

describe('extractHipPackets / extractEspPackets: UDP and TCP carriers', () => {
  const marker = new Uint8Array(4);
  const A = '20010db8000000000000000000000001';
  const B = '20010db8000000000000000000000002';

  it('finds marker + HIP in UDP over IPv6 behind a hop-by-hop header', () => {
    const data = ipv6Udp(A, B, 10500, 10500, concatBytes(marker, CUTEHIP_I1));
    const [h, ...rest] = extractHipPackets([frame(101, data)]);
    expect(rest).toEqual([]);
    expect(h!.carrier).toBe('udp');
    expect(h!.src).toBe('2001:db8::1');
    expect(h!.dst).toBe('2001:db8::2');
    expect([h!.srcPort, h!.dstPort]).toEqual([10500, 10500]);
    expect(h!.hip).toEqual(CUTEHIP_I1);
  });

  it('ignores UDP whose HIP header length disagrees with the datagram, or lacks the marker', () => {
    const extra = ipv6Udp(A, B, 1, 2, concatBytes(marker, CUTEHIP_I1, new Uint8Array(8)));
    const noMarker = ipv6Udp(A, B, 1, 2, concatBytes(CUTEHIP_I1, marker));
    expect(extractHipPackets([frame(101, extra), frame(101, noMarker)])).toEqual([]);
  });

  it('finds ESP in UDP only for SPIs announced by ESP_INFO on the same flow', () => {
    // A minimal HIP packet (R2-like, header + ESP_INFO) announcing SPI 0x0badcafe.
    const r2 = hexToBytes(
      '3b 06 04 21 0000 0000' + A + B + '0041 000c 0000 0080 00000000 0badcafe',
    );
    const esp = hexToBytes('0badcafe 00000001 deadbeefdeadbeef');
    const other = hexToBytes('12345678 00000001 deadbeefdeadbeef');
    const frames = [
      frame(101, ipv6Udp(B, A, 10500, 10500, concatBytes(marker, r2))),
      { ...frame(101, ipv6Udp(A, B, 10500, 10500, esp)), index: 1 },
      { ...frame(101, ipv6Udp(A, B, 10500, 10500, other)), index: 2 },
      { ...frame(101, ipv6Udp(A, B, 10501, 10500, esp)), index: 3 }, // another flow
      { ...frame(101, ipv6Udp(A, B, 10500, 10500, Uint8Array.of(0xff))), index: 4 }, // keepalive
    ];
    expect(extractHipPackets(frames).map((h) => h.frameIndex)).toEqual([0]);
    const found = extractEspPackets(frames);
    expect(found.map((e) => e.frameIndex)).toEqual([1]);
    expect(found[0]!.esp).toEqual(esp);
  });

  it('formats addresses as RFC 5952 text', () => {
    expect(formatIpAddress(hexToBytes('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(formatIpAddress(hexToBytes('20010db8000000010000000000000000'))).toBe('2001:db8:0:1::');
    expect(formatIpAddress(hexToBytes('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIpAddress(hexToBytes('20010db8000100000000000100000000'))).toBe('2001:db8:1::1:0:0');
    expect(formatIpAddress(hexToBytes('20010db8000000010001000100010001'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpAddress(Uint8Array.of(10, 0, 0, 1))).toBe('10.0.0.1');
    expect(() => formatIpAddress(new Uint8Array(5))).toThrow(expect.objectContaining({ code: 'ERR_PCAP_BAD_IP' }));
  });
});

/** One pcapng block: type, total length, body padded to 4, total length. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, total, le);
  out.set(body, 8);
  dv.setUint32(total - 4, total, le);
  return out;
}

function words(le: boolean, spec: Array<[number, 1 | 2 | 4]>): Uint8Array {
  const size = spec.reduce((n, [, w]) => n + w, 0);
  const dv = new DataView(new ArrayBuffer(size));
  let off = 0;
  for (const [v, w] of spec) {
    if (w === 1) dv.setUint8(off, v);
    else if (w === 2) dv.setUint16(off, v, le);
    else dv.setUint32(off, v, le);
    off += w;
  }
  return new Uint8Array(dv.buffer);
}

/** A two-section pcapng file: a little-endian section then a big-endian one. */
function samplePcapng(): Uint8Array {
  const parts: Uint8Array[] = [];
  // Section 1, little-endian: SHB, IDB (Ethernet, if_tsresol = 9 -> ns), a name-resolution block
  // to skip, an EPB with the Ethernet I1, an ISB to skip.
  let le = true;
  const shb = (l: boolean): Uint8Array =>
    block(l, 0x0a0d0d0a, concatBytes(words(l, [[0x1a2b3c4d, 4], [1, 2], [0, 2], [0xffffffff, 4], [0xffffffff, 4]])));
  parts.push(shb(le));
  parts.push(block(le, 1, concatBytes(words(le, [[1, 2], [0, 2], [0, 4], [9, 2], [1, 2]]), Uint8Array.of(9, 0, 0, 0), words(le, [[0, 2], [0, 2]]))));
  parts.push(block(le, 4, words(le, [[0, 2], [0, 2]])));
  const ethFrame = concatBytes(hexToBytes('0e32ce7de5c5 0e32ce7de5c6 0800'), CUTEHIP_I1_IP);
  // 1700000000.123456789 s in ns = 0x1797_3D12_D6C8_7315
  const ts = 1700000000_123456789n;
  parts.push(
    block(
      le,
      6,
      concatBytes(
        words(le, [[0, 4], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [ethFrame.length, 4], [ethFrame.length, 4]]),
        ethFrame,
        new Uint8Array((4 - (ethFrame.length % 4)) % 4),
      ),
    ),
  );
  parts.push(block(le, 5, concatBytes(words(le, [[0, 4], [0, 4], [0, 4]]))));
  // Section 2, big-endian: SHB, IDB (raw IP, if_tsresol = 2^-10), SPB (no timestamp), EPB.
  le = false;
  parts.push(shb(le));
  parts.push(block(le, 1, concatBytes(words(le, [[101, 2], [0, 2], [0, 4], [9, 2], [1, 2]]), Uint8Array.of(0x80 | 10, 0, 0, 0), words(le, [[0, 2], [0, 2]]))));
  parts.push(block(le, 3, concatBytes(words(le, [[CUTEHIP_I1_IP.length, 4]]), CUTEHIP_I1_IP)));
  parts.push(
    block(le, 6, concatBytes(words(le, [[0, 4], [0, 4], [3 * 1024 + 512, 4], [CUTEHIP_I1_IP.length, 4], [CUTEHIP_I1_IP.length, 4]]), CUTEHIP_I1_IP)),
  );
  return concatBytes(...parts);
}

describe('readCapture: pcapng', () => {
  it('reads EPB and SPB across two sections of opposite byte order, skipping other blocks', () => {
    const frames = readCapture(samplePcapng());
    expect(frames.map((f) => [f.index, f.linkType, f.data.length])).toEqual([
      [0, 1, 14 + 76],
      [1, 101, 76],
      [2, 101, 76],
    ]);
    expect(frames[0]!.timestampNs).toBe(1700000000_123456789n); // if_tsresol 9
    expect(frames[1]!.timestampNs).toBe(0n); // SPB: no timestamp
    expect(frames[2]!.timestampNs).toBe(3_500_000_000n); // 3.5 * 2^10 units of 2^-10 s
    const hip = extractHipPackets(frames);
    expect(hip.map((h) => h.frameIndex)).toEqual([0, 1, 2]);
    for (const h of hip) expect(h.hip).toEqual(CUTEHIP_I1);
  });

  it.skipIf(skipWithoutTshark())('the hand-built pcapng is valid for tshark too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-pcapng-'));
    const path = join(dir, 'sample.pcapng');
    writeFileSync(path, samplePcapng());
    const out = await runTshark(['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'hip.packet_type']);
    const rows = out.trim().split('\n').map((l) => l.split('\t'));
    expect(rows).toEqual([
      ['1700000000.123456789', '1'],
      [expect.any(String), '1'],
      ['3.500000000', '1'],
    ]);
  });

  it('rejects bad block lengths, undescribed interfaces and cut files', () => {
    const good = samplePcapng();
    const badLen = good.slice();
    badLen[4] = 0x1d; // SHB length 0x1d: not a multiple of 4
    expect(() => readCapture(badLen)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_MALFORMED' }));
    const trailer = good.slice();
    trailer[27] = 0x7f; // SHB trailing length differs
    expect(() => readCapture(trailer)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_MALFORMED' }));
    const shbLen = new DataView(good.buffer).getUint32(4, true);
    const noIdb = concatBytes(good.subarray(0, shbLen), block(true, 3, concatBytes(words(true, [[4, 4]]), new Uint8Array(4))));
    expect(() => readCapture(noIdb)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_MALFORMED' }));
    expect(() => readCapture(good.subarray(0, good.length - 8))).toThrow(
      expect.objectContaining({ code: 'ERR_PCAP_TRUNCATED' }),
    );
    const badBom = good.slice();
    badBom.set([1, 2, 3, 4], 8);
    expect(() => readCapture(badBom)).toThrow(expect.objectContaining({ code: 'ERR_PCAP_BAD_MAGIC' }));
  });
});
