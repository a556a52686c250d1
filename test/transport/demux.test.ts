import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HipArgumentError } from '../../src/errors.js';
import {
  announcedHipLength,
  canonicalAddress,
  hasZeroMarker,
  isMarkedHipDatagram,
  normalizePeer,
  peerKey,
  HIP_NAT_UDP_PORT,
} from '../../src/transport/index.js';
import { extractHipPackets } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import { readFileSync } from 'node:fs';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { captureRawIp, captureSegments } from '../helpers/transport-captures.js';

const LIBHIPL_UDP = ['libhipl-v1-udp-bex.pcap', 'libhipl-v1-udp-bex-close.pcap', 'libhipl-v1-udp-k12.pcap', 'libhipl-v1-udp-k12-swapped.pcap'];
const MARKER = new Uint8Array(4);
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe('isMarkedHipDatagram on captured libhipl UDP traffic', () => {
  for (const file of LIBHIPL_UDP) {
    it(`${file}: control packets are HIP, "Hello Sailor!" is not, and the HIP parts match the wire layer's extractor`, () => {
      const udp = captureSegments(file).filter((s) => s.proto === 'udp');
      const hip = udp.filter((s) => isMarkedHipDatagram(s.payload)).map((s) => s.payload.subarray(4));
      const data = udp.filter((s) => !isMarkedHipDatagram(s.payload));
      // Independent cross-check: the wire layer's pcap scanner finds the same HIP packets.
      const path = `${CAPTURES_DIR}${file}`;
      const reference = extractHipPackets(readCapture(readFileSync(path))).map((h) => h.hip);
      expect(hip.length).toBe(reference.length);
      expect(hip.length).toBeGreaterThanOrEqual(6);
      hip.forEach((h, i) => expect(Buffer.from(h).equals(Buffer.from(reference[i]!))).toBe(true));
      for (const d of data) expect(Buffer.from(d.payload).toString('latin1')).toBe('Hello Sailor!');
      expect(data.length).toBeGreaterThanOrEqual(1);
    });
  }

  it('CuteHIP v2 packets behind a marker are HIP; its ESP packets are not', () => {
    const { hip, esp } = captureRawIp('cutehip-v2-rawip-bex.pcap');
    expect(hip.length).toBeGreaterThanOrEqual(4);
    expect(esp.length).toBeGreaterThanOrEqual(1);
    for (const h of hip) {
      expect(isMarkedHipDatagram(cat(MARKER, h))).toBe(true);
      // Without the marker a HIP packet is just bytes (its first byte, 0x3b, is not zero).
      expect(isMarkedHipDatagram(h)).toBe(false);
    }
    for (const e of esp) expect(isMarkedHipDatagram(e)).toBe(false);
  });
});

describe('isMarkedHipDatagram edge cases', () => {
  const i1 = captureSegments('libhipl-v1-udp-bex.pcap')[0]!.payload; // marker + 40-byte I1

  it('the captured I1 is marker + 40 bytes announcing HdrLen 4', () => {
    expect(i1.length).toBe(44);
    expect(Buffer.from(i1.subarray(0, 8)).toString('hex')).toBe('000000003b040111');
    expect(isMarkedHipDatagram(i1)).toBe(true);
  });

  it('rejects a trailing byte, a missing byte, a wrong Next Header, a non-zero marker', () => {
    expect(isMarkedHipDatagram(cat(i1, new Uint8Array([0])))).toBe(false);
    expect(isMarkedHipDatagram(i1.subarray(0, 43))).toBe(false);
    const nh = i1.slice();
    nh[4] = 58;
    expect(isMarkedHipDatagram(nh)).toBe(false);
    for (let i = 0; i < 4; i++) {
      const m = i1.slice();
      m[i] = 1;
      expect(isMarkedHipDatagram(m)).toBe(false);
    }
  });

  it('rejects headers announcing less than the 40-byte fixed header', () => {
    for (let hdrLen = 0; hdrLen < 4; hdrLen++) {
      const b = new Uint8Array(4 + (hdrLen + 1) * 8);
      b[4] = 59;
      b[5] = hdrLen;
      expect(isMarkedHipDatagram(b)).toBe(false);
    }
  });

  it('accepts the largest HIP packet, 2048 bytes (HdrLen 255)', () => {
    const b = new Uint8Array(4 + 2048);
    b[4] = 59;
    b[5] = 255;
    expect(isMarkedHipDatagram(b)).toBe(true);
    expect(announcedHipLength(b, 4)).toBe(2048);
  });

  it('short and empty datagrams are never HIP', () => {
    for (let n = 0; n <= 44; n++) {
      if (n === 44) continue;
      expect(isMarkedHipDatagram(new Uint8Array(n))).toBe(false);
    }
    expect(hasZeroMarker(new Uint8Array(3))).toBe(false);
    expect(hasZeroMarker(new Uint8Array(4))).toBe(true);
  });

  it('property: a datagram whose first word is non-zero is never HIP', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), (b) => {
        fc.pre((b[0]! | b[1]! | b[2]! | b[3]!) !== 0);
        return !isMarkedHipDatagram(b);
      }),
    );
  });

  it('property: marker + any 40..2048-byte body is HIP exactly when Next Header is 59 and the length matches', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 600 }), fc.boolean(), (body, fix) => {
        if (fix) {
          body[0] = 59;
          body[1] = Math.min(255, body.length / 8 - 1);
        }
        const expected = body[0] === 59 && (body[1]! + 1) * 8 === body.length;
        return isMarkedHipDatagram(cat(MARKER, body)) === expected;
      }),
    );
  });
});

describe('peers and keys', () => {
  it('HIP_NAT_UDP_PORT is 10500 (RFC 5770)', () => {
    expect(HIP_NAT_UDP_PORT).toBe(10500);
  });

  it('formats keys as in the brief', () => {
    expect(peerKey('udp', { address: '127.0.0.1', port: 22300, family: 4 })).toBe('udp:127.0.0.1:22300');
    expect(peerKey('udp', { address: '::1', port: 22300, family: 6 })).toBe('udp:[::1]:22300');
    expect(peerKey('tcp', { address: '2001:db8::7', port: 10500, family: 6 })).toBe('tcp:[2001:db8::7]:10500');
  });

  it('one peer, one key: IPv6 text forms and IPv4-mapped addresses are canonicalized', () => {
    const k = peerKey('udp', { address: '2001:db8::1', port: 1, family: 6 });
    expect(peerKey('udp', { address: '2001:0DB8:0:0:0:0:0:1', port: 1, family: 6 })).toBe(k);
    expect(peerKey('udp', { address: '::ffff:10.1.2.3', port: 9, family: 6 })).toBe('udp:10.1.2.3:9');
    expect(peerKey('udp', { address: '::FFFF:10.1.2.3', port: 9, family: 4 })).toBe('udp:10.1.2.3:9');
    expect(peerKey('udp', { address: 'fe80::1%lo', port: 9, family: 6 })).toBe('udp:[fe80::1%lo]:9');
    expect(peerKey('udp', { address: '127.0.0.1', port: 1, family: 4 })).not.toBe(peerKey('tcp', { address: '127.0.0.1', port: 1, family: 4 }));
  });

  it('normalizePeer and canonicalAddress', () => {
    expect(normalizePeer({ address: '::ffff:10.0.0.1', port: 10500, family: 6 })).toEqual({
      address: '10.0.0.1',
      port: 10500,
      family: 4,
    });
    expect(canonicalAddress('2001:DB8:0:0:1:0:0:1')).toEqual({ address: '2001:db8::1:0:0:1', family: 6 });
    expect(canonicalAddress('example.com')).toBeNull();
    expect(canonicalAddress('1.2.3')).toBeNull();
  });

  it('rejects invalid peers with a typed error', () => {
    const bad = [
      { address: 'localhost', port: 1, family: 4 },
      { address: '127.0.0.1', port: 70000, family: 4 },
      { address: '127.0.0.1', port: -1, family: 4 },
      { address: '127.0.0.1', port: 1.5, family: 4 },
      { address: '127.0.0.1', port: 1, family: 6 },
      { address: '::1', port: 1, family: 4 },
      { address: 42, port: 1, family: 4 },
    ];
    for (const p of bad) {
      let err: unknown;
      try {
        peerKey('udp', p as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(p)).toBeInstanceOf(HipArgumentError);
      expect((err as HipArgumentError).code).toBe('ERR_TRANSPORT_BAD_ARGUMENT');
    }
  });
});
