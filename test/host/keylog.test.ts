import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HipArgumentError, HipEspError } from '../../src/errors.js';
import {
  KeyLogWriter,
  espSaUatLine,
  tsharkDecodeAsUdpEsp,
  tsharkEspOptions,
  type KeylogSa,
} from '../../src/host/keylog.js';

/** Bytes 1, 2, 3, … of length n (a key whose hex is easy to write out by hand). */
const seq = (n: number, start = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const none = new Uint8Array(0);

const base = { srcAddress: '127.0.0.1', dstAddress: '127.0.0.2', spi: 0x1234 };

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function codeOf(f: () => unknown): string {
  const e = caught(f);
  expect(e).toBeInstanceOf(HipArgumentError);
  return (e as HipArgumentError).code;
}

describe('espSaUatLine: the eight esp_sa columns of Wireshark 4.0', () => {
  // Expected records are written out from Wireshark's own algorithm names (packet-ipsec.c,
  // esp_encryption_type_vals / esp_authentication_type_vals), not from the code under test.
  it('suite 1: AES-128-CBC + HMAC-SHA-1-96', () => {
    const line = espSaUatLine({ ...base, suite: 1, encKey: seq(16), authKey: seq(20, 0x40) });
    expect(line).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-CBC [RFC3602]","0x0102030405060708090a0b0c0d0e0f10",' +
        '"HMAC-SHA-1-96 [RFC2404]","0x404142434445464748494a4b4c4d4e4f50515253"',
    );
  });

  it('suite 7: NULL encryption has an empty key field', () => {
    const line = espSaUatLine({ ...base, suite: 7, encKey: none, authKey: seq(32, 0x40) });
    expect(line).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","NULL","","HMAC-SHA-256-128 [RFC4868]",' +
        '"0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"',
    );
  });

  it('suites 8 and 9: AES-CBC, the key length tells AES-128 from AES-256', () => {
    expect(espSaUatLine({ ...base, suite: 8, encKey: seq(16), authKey: seq(32, 0x40) })).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-CBC [RFC3602]","0x0102030405060708090a0b0c0d0e0f10",' +
        '"HMAC-SHA-256-128 [RFC4868]","0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"',
    );
    expect(espSaUatLine({ ...base, suite: 9, encKey: seq(32), authKey: seq(32, 0x40) })).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-CBC [RFC3602]",' +
        '"0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",' +
        '"HMAC-SHA-256-128 [RFC4868]","0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"',
    );
  });

  it('suites 12 and 13: GCM key with its 4-byte salt, NULL authentication, empty auth key', () => {
    expect(espSaUatLine({ ...base, suite: 12, encKey: seq(20), authKey: none })).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-GCM with 8 octet ICV [RFC4106]",' +
        '"0x0102030405060708090a0b0c0d0e0f1011121314","NULL",""',
    );
    expect(espSaUatLine({ ...base, suite: 13, encKey: seq(20), authKey: none })).toBe(
      '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-GCM with 16 octet ICV [RFC4106]",' +
        '"0x0102030405060708090a0b0c0d0e0f1011121314","NULL",""',
    );
  });

  it('formats the SPI as 0x and eight lowercase hex digits, up to 2^32-1', () => {
    const at = (spi: number) => espSaUatLine({ ...base, spi, suite: 13, encKey: seq(20), authKey: none }).split(',')[3];
    expect(at(256)).toBe('"0x00000100"');
    expect(at(0xdeadbeef)).toBe('"0xdeadbeef"');
    expect(at(0xffffffff)).toBe('"0xffffffff"');
  });

  it('writes IPv6 addresses fully expanded, with protocol IPv6', () => {
    const line = espSaUatLine({
      srcAddress: '::1',
      dstAddress: '2001:DB8::a:1',
      spi: 0x1234,
      suite: 13,
      encKey: seq(20),
      authKey: none,
    });
    expect(line.split(',').slice(0, 3)).toEqual([
      '"IPv6"',
      '"0000:0000:0000:0000:0000:0000:0000:0001"',
      '"2001:0db8:0000:0000:0000:0000:000a:0001"',
    ]);
  });

  it('drops an IPv6 zone and rewrites a dotted-quad tail as hex groups', () => {
    const line = espSaUatLine({
      srcAddress: 'fe80::1%eth0',
      dstAddress: '::ffff:192.0.2.33',
      spi: 0x1234,
      suite: 13,
      encKey: seq(20),
      authKey: none,
    });
    expect(line.split(',').slice(1, 3)).toEqual([
      '"fe80:0000:0000:0000:0000:0000:0000:0001"',
      '"0000:0000:0000:0000:0000:ffff:c000:0221"',
    ]);
  });

  it("addresses: 'any' writes * for both addresses but keeps the IP version", () => {
    const v4 = espSaUatLine({ ...base, suite: 13, encKey: seq(20), authKey: none }, { addresses: 'any' });
    expect(v4.split(',').slice(0, 4)).toEqual(['"IPv4"', '"*"', '"*"', '"0x00001234"']);
    const v6 = espSaUatLine(
      { ...base, srcAddress: '::1', dstAddress: '::2', suite: 13, encKey: seq(20), authKey: none },
      { addresses: 'any' },
    );
    expect(v6.split(',').slice(0, 3)).toEqual(['"IPv6"', '"*"', '"*"']);
  });

  it('refuses what Wireshark could not use, with stable codes', () => {
    const ok: KeylogSa = { ...base, suite: 8, encKey: seq(16), authKey: seq(32) };
    expect(codeOf(() => espSaUatLine({ ...ok, srcAddress: 'localhost' }))).toBe('ERR_KEYLOG_BAD_ADDRESS');
    expect(codeOf(() => espSaUatLine({ ...ok, dstAddress: '::1' }))).toBe('ERR_KEYLOG_BAD_ADDRESS');
    expect(codeOf(() => espSaUatLine({ ...ok, srcAddress: 7 as unknown as string }))).toBe('ERR_KEYLOG_BAD_ADDRESS');
    expect(codeOf(() => espSaUatLine({ ...ok, spi: 255 }))).toBe('ERR_KEYLOG_BAD_SPI');
    expect(codeOf(() => espSaUatLine({ ...ok, spi: 2 ** 32 }))).toBe('ERR_KEYLOG_BAD_SPI');
    expect(codeOf(() => espSaUatLine({ ...ok, spi: 1.5 }))).toBe('ERR_KEYLOG_BAD_SPI');
    expect(codeOf(() => espSaUatLine({ ...ok, encKey: seq(20) }))).toBe('ERR_KEYLOG_BAD_KEY');
    expect(codeOf(() => espSaUatLine({ ...ok, authKey: seq(20) }))).toBe('ERR_KEYLOG_BAD_KEY');
    expect(codeOf(() => espSaUatLine({ ...ok, suite: 13, encKey: seq(16), authKey: none }))).toBe('ERR_KEYLOG_BAD_KEY');
    expect(codeOf(() => espSaUatLine({ ...ok, authKey: 'key' as unknown as Uint8Array }))).toBe('ERR_KEYLOG_BAD_KEY');
    expect(codeOf(() => espSaUatLine(null as unknown as KeylogSa))).toBe('ERR_KEYLOG_BAD_SA');
    expect(codeOf(() => espSaUatLine(ok, { addresses: 'some' as 'any' }))).toBe('ERR_KEYLOG_BAD_OPTION');
    const e = caught(() => espSaUatLine({ ...ok, suite: 3 }));
    expect(e).toBeInstanceOf(HipEspError);
    expect((e as HipEspError).code).toBe('ERR_ESP_UNSUPPORTED_SUITE');
  });
});

describe('KeyLogWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hipl-keylog-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const sa1: KeylogSa = { ...base, suite: 13, encKey: seq(20), authKey: none };
  const sa2: KeylogSa = { srcAddress: '127.0.0.2', dstAddress: '127.0.0.1', spi: 0x5678, suite: 8, encKey: seq(16), authKey: seq(32) };

  it('creates the file with mode 0600 and writes one record per line', () => {
    const path = join(dir, 'keys');
    const w = KeyLogWriter.open(path);
    w.write(sa1);
    w.write(sa2);
    w.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(`${espSaUatLine(sa1)}\n${espSaUatLine(sa2)}\n`);
  });

  it('each record is eight quoted fields, as the esp_sa UAT parses them', () => {
    const path = join(dir, 'keys');
    const w = KeyLogWriter.open(path);
    w.write(sa2);
    w.close();
    const line = readFileSync(path, 'utf8').trimEnd();
    const fields = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    expect(fields).toEqual([
      'IPv4',
      '127.0.0.2',
      '127.0.0.1',
      '0x00005678',
      'AES-CBC [RFC3602]',
      '0x0102030405060708090a0b0c0d0e0f10',
      'HMAC-SHA-256-128 [RFC4868]',
      '0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20',
    ]);
    expect(line).toBe(fields.map((f) => `"${f}"`).join(','));
  });

  it('appends to an existing file and tightens its mode to 0600', () => {
    const path = join(dir, 'keys');
    writeFileSync(path, '# earlier records\n');
    chmodSync(path, 0o644);
    const w = KeyLogWriter.open(path);
    w.write(sa1);
    w.close();
    const again = KeyLogWriter.open(path);
    again.write(sa2);
    again.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(`# earlier records\n${espSaUatLine(sa1)}\n${espSaUatLine(sa2)}\n`);
  });

  it("passes the addresses option to every record", () => {
    const path = join(dir, 'keys');
    const w = KeyLogWriter.open(path, { addresses: 'any' });
    w.write(sa1);
    w.close();
    expect(readFileSync(path, 'utf8')).toBe(`${espSaUatLine(sa1, { addresses: 'any' })}\n`);
  });

  it('a bad SA is refused without writing anything', () => {
    const path = join(dir, 'keys');
    const w = KeyLogWriter.open(path);
    expect(codeOf(() => w.write({ ...sa1, spi: 0 }))).toBe('ERR_KEYLOG_BAD_SPI');
    w.close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('close is idempotent and write after close is a typed error', () => {
    const w = KeyLogWriter.open(join(dir, 'keys'));
    w.close();
    w.close();
    expect(codeOf(() => w.write(sa1))).toBe('ERR_KEYLOG_CLOSED');
  });

  it('an unopenable path is a typed error carrying the fs code', () => {
    const e = caught(() => KeyLogWriter.open(join(dir, 'missing', 'keys')));
    expect(e).toBeInstanceOf(HipArgumentError);
    expect((e as HipArgumentError).code).toBe('ERR_KEYLOG_OPEN');
    expect((e as HipArgumentError).details?.errno).toBe('ENOENT');
    expect(codeOf(() => KeyLogWriter.open(''))).toBe('ERR_KEYLOG_OPEN');
    expect(codeOf(() => KeyLogWriter.open(join(dir, 'k'), { addresses: 'x' as 'any' }))).toBe('ERR_KEYLOG_BAD_OPTION');
  });
});

describe('tshark helpers', () => {
  it('tsharkEspOptions turns decryption on and adds one uat:esp_sa record per line', () => {
    expect(tsharkEspOptions(['"IPv4","*","*","*","NULL","","NULL",""', '', '# comment', 'B\r\nC\n'])).toEqual([
      '-o',
      'esp.enable_encryption_decode:TRUE',
      '-o',
      'uat:esp_sa:"IPv4","*","*","*","NULL","","NULL",""',
      '-o',
      'uat:esp_sa:B',
      '-o',
      'uat:esp_sa:C',
    ]);
    expect(tsharkEspOptions([])).toEqual(['-o', 'esp.enable_encryption_decode:TRUE']);
  });

  it('tsharkDecodeAsUdpEsp decodes the port as UDP-encapsulated IPsec', () => {
    expect(tsharkDecodeAsUdpEsp(10500)).toEqual(['-d', 'udp.port==10500,udpencap']);
    expect(tsharkDecodeAsUdpEsp(65535)).toEqual(['-d', 'udp.port==65535,udpencap']);
    for (const bad of [0, 65536, 1.5, Number.NaN, '10500' as unknown as number]) {
      expect(codeOf(() => tsharkDecodeAsUdpEsp(bad))).toBe('ERR_KEYLOG_BAD_PORT');
    }
  });
});
