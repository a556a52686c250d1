/**
 * An ESP key log for Wireshark: the SSLKEYLOGFILE idea applied to HIP's ESP security
 * associations. Each SA is written as one record of Wireshark's "ESP SAs" table, so a capture
 * made with the pcap writer (or any capture of the same traffic) can be decrypted.
 *
 * ## What Wireshark expects (checked against the installed Wireshark 4.0.17)
 *
 * The table is a UAT named `esp_sa` (preference `esp.sa_table`). It lives in a file called
 * `esp_sa` in the Wireshark profile directory (e.g. `~/.config/wireshark/esp_sa`, or the
 * directory named by `WIRESHARK_CONFIG_DIR`), one record per line, `#` lines are comments. On
 * the command line one record is given as `-o uat:esp_sa:<record>`; repeat `-o` for more.
 * A record is eight double-quoted, comma-separated fields, in this order:
 *
 * | # | column | what we write |
 * |---|---|---|
 * | 1 | Protocol | `IPv4` or `IPv6`: must equal the IP version of the packet (there is no "any") |
 * | 2 | Src IP | outer source address of the ESP packet, or `*` |
 * | 3 | Dest IP | outer destination address of the ESP packet, or `*` |
 * | 4 | SPI | `0x` and 8 hex digits (decimal, or `*` for any, are accepted too) |
 * | 5 | Encryption | `AES-CBC [RFC3602]`, `AES-GCM with 8 octet ICV [RFC4106]`, `AES-GCM with 16 octet ICV [RFC4106]` or `NULL` |
 * | 6 | Encryption Key | `0x` + hex; for GCM the AES key followed by the 4-byte salt (20 bytes for AES-128); empty for NULL |
 * | 7 | Authentication | `HMAC-SHA-1-96 [RFC2404]`, `HMAC-SHA-256-128 [RFC4868]`, or `NULL` (GCM requires `NULL`) |
 * | 8 | Authentication Key | `0x` + hex; empty for GCM |
 *
 * A key without the `0x` prefix would be taken as ASCII text, hence the prefix. The address
 * columns match the outer IP header of the packet holding the ESP packet: for HIP over UDP
 * those are the UDP locators, never the HITs. Wireshark expands both sides to hex nibbles
 * before comparing, so `*` may also stand for a whole address, an IPv4 octet, or come from a
 * `/prefix`; IPv6 is written here fully expanded (zone dropped, dotted-quad tails converted)
 * because that form is the one its expansion code cannot misread.
 *
 * Suites map as: 1 → AES-CBC + HMAC-SHA-1-96; 7 → NULL + HMAC-SHA-256-128; 8, 9 → AES-CBC (the
 * key length picks AES-128/256) + HMAC-SHA-256-128; 12 → AES-GCM 8-octet ICV; 13 → AES-GCM
 * 16-octet ICV.
 *
 * ## Extended sequence numbers
 *
 * HIP mandates 64-bit ESN (RFC 7402), but Wireshark 4.0's SA table has no sequence-number
 * column and its ESP code knows nothing of ESN: it computes the HMAC over the packet without
 * the implicit SeqHigh trailer, and uses the 8-byte AAD `SPI | SeqLow` for GCM. Decryption is
 * not affected (CBC takes its IV from the packet; the GCM IV on the wire carries the whole
 * 64-bit sequence number, and Wireshark decrypts whether or not the tag checks out), so every
 * payload is shown in clear. But with `esp.enable_authentication_check:TRUE` Wireshark 4.0
 * marks every HIP ICV "incorrect"; {@link tsharkEspOptions} therefore leaves that check off.
 * Wireshark's development documentation (4.5) shows SA records with sequence-number fields
 * (`sn_length`, `sn_upper`), added after Wireshark issue 19658 reported exactly this; their
 * column text was not verified here, so this writer keeps the eight-column form 4.0 reads.
 *
 * ## Making ESP over UDP visible
 *
 * Wireshark's HIP dissector owns UDP port 10500 but only claims datagrams that start with the
 * four zero bytes of the RFC 5770 marker; an ESP datagram on that port is left as raw data,
 * and `esp` is not a choice for `-d udp.port==...`. The `udpencap` dissector (RFC 3948) is: it
 * hands a datagram whose first word is non-zero to ESP, shows a lone 0xff as a NAT keepalive,
 * and gives zero-marked datagrams to IKE. So {@link tsharkDecodeAsUdpEsp} makes ESP decodable,
 * at the price of HIP control packets on the same port showing as malformed ISAKMP: look at
 * those in a second pass without the decode-as. ESP in TCP behind a 16-bit length prefix cannot
 * be decoded by Wireshark 4.0: its `tcpencap` dissector implements a different, trailer-based
 * framing, not RFC 8229's.
 *
 * @example
 * ```ts
 * const keylog = KeyLogWriter.open('hip-esp.keys');
 * keylog.write({ srcAddress: '192.0.2.1', dstAddress: '192.0.2.2', spi: out.spi, suite: 8, encKey, authKey });
 * keylog.close();
 * // tshark -r hip.pcap -d udp.port==10500,udpencap -o esp.enable_encryption_decode:TRUE \
 * //   -o "uat:esp_sa:$(head -1 hip-esp.keys)"
 * ```
 * @module
 */

import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { bytesToHex } from '../bytes.js';
import { HipArgumentError } from '../errors.js';
import { MIN_SPI } from '../esp/spi.js';
import { espKeymatLengths, espSuite } from '../esp/suites.js';

/** The facts of one ESP SA direction that Wireshark needs to decrypt its packets. */
export interface KeylogSa {
  /** Outer source address of this SA's packets (the sender's locator), IPv4 or IPv6 text. */
  srcAddress: string;
  /** Outer destination address of this SA's packets (the receiver's locator). */
  dstAddress: string;
  /** The SPI carried in the packets (the receiver's inbound SPI). */
  spi: number;
  /** ESP transform suite ID (1, 7, 8, 9, 12 or 13). */
  suite: number;
  /** Encryption key; for GCM the AES key followed by the 4-byte salt; empty for suite 7. */
  encKey: Uint8Array;
  /** HMAC key; empty for the GCM suites. */
  authKey: Uint8Array;
}

/** Options of {@link espSaUatLine} and {@link KeyLogWriter.open}. */
export interface EspSaUatOptions {
  /**
   * `'exact'` (default) writes the SA's addresses, so the record matches only packets between
   * them. `'any'` writes `*` for both, so the record still matches after the peers move or a
   * NAT rewrites the addresses (the SPI alone then selects the SA); the IP version is still
   * taken from `srcAddress`, because Wireshark has no any-version record.
   */
  addresses?: 'exact' | 'any';
}

interface UatAlgorithms {
  encryption: string;
  authentication: string;
}

/** Wireshark's names for the algorithms of each suite, verbatim from its ESP dissector. */
const UAT_ALGORITHMS: ReadonlyMap<number, UatAlgorithms> = new Map([
  [1, { encryption: 'AES-CBC [RFC3602]', authentication: 'HMAC-SHA-1-96 [RFC2404]' }],
  [7, { encryption: 'NULL', authentication: 'HMAC-SHA-256-128 [RFC4868]' }],
  [8, { encryption: 'AES-CBC [RFC3602]', authentication: 'HMAC-SHA-256-128 [RFC4868]' }],
  [9, { encryption: 'AES-CBC [RFC3602]', authentication: 'HMAC-SHA-256-128 [RFC4868]' }],
  [12, { encryption: 'AES-GCM with 8 octet ICV [RFC4106]', authentication: 'NULL' }],
  [13, { encryption: 'AES-GCM with 16 octet ICV [RFC4106]', authentication: 'NULL' }],
]);

/**
 * One record of Wireshark's `esp_sa` table for an SA: a line of the `esp_sa` file in a
 * Wireshark profile, or the value of `tshark -o uat:esp_sa:<record>`. No trailing newline.
 *
 * @throws HipArgumentError `ERR_KEYLOG_BAD_SA` (not an object), `ERR_KEYLOG_BAD_ADDRESS` (not
 *   an IP address, or IPv4 mixed with IPv6), `ERR_KEYLOG_BAD_SPI` (not an integer in
 *   256..2^32-1), `ERR_KEYLOG_BAD_KEY` (a key of the wrong length for the suite),
 *   `ERR_KEYLOG_BAD_OPTION`; HipEspError `ERR_ESP_UNSUPPORTED_SUITE` for a suite this library
 *   does not run.
 * @example
 * ```ts
 * espSaUatLine({ srcAddress: '127.0.0.1', dstAddress: '127.0.0.2', spi: 0x1234, suite: 13,
 *   encKey: aesKeyAndSalt, authKey: new Uint8Array(0) });
 * // '"IPv4","127.0.0.1","127.0.0.2","0x00001234","AES-GCM with 16 octet ICV [RFC4106]","0x…","NULL",""'
 * ```
 */
export function espSaUatLine(sa: KeylogSa, opts: EspSaUatOptions = {}): string {
  if (typeof sa !== 'object' || sa === null) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_SA', 'the SA must be an object');
  }
  const addresses = checkAddressOption(opts);
  const src = normaliseAddress(sa.srcAddress, 'source');
  const dst = normaliseAddress(sa.dstAddress, 'destination');
  if (src.family !== dst.family) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_ADDRESS', 'source and destination mix IPv4 and IPv6', {
      srcAddress: sa.srcAddress,
      dstAddress: sa.dstAddress,
    });
  }
  const { spi } = sa;
  if (typeof spi !== 'number' || !Number.isInteger(spi) || spi < MIN_SPI || spi > 0xffffffff) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_SPI', `SPI must be an integer in ${String(MIN_SPI)}..2^32-1`, {
      spi,
    });
  }
  const suite = espSuite(sa.suite);
  const want = espKeymatLengths(suite.id);
  checkKey(sa.encKey, want.enc, 'encryption', suite.id);
  checkKey(sa.authKey, want.auth, 'authentication', suite.id);
  // Every suite espSuite accepts has an entry, so this lookup cannot miss.
  const algs = UAT_ALGORITHMS.get(suite.id)!;
  const any = addresses === 'any';
  const fields = [
    src.family === 4 ? 'IPv4' : 'IPv6',
    any ? '*' : src.text,
    any ? '*' : dst.text,
    `0x${spi.toString(16).padStart(8, '0')}`,
    algs.encryption,
    hexKey(sa.encKey),
    algs.authentication,
    hexKey(sa.authKey),
  ];
  return fields.map((f) => `"${f}"`).join(',');
}

/**
 * Appends one `esp_sa` record per SA to a key log file, like SSLKEYLOGFILE does for TLS. The
 * file is the same format as the `esp_sa` file of a Wireshark profile, so it can be copied
 * there, or its lines passed to tshark with {@link tsharkEspOptions}.
 *
 * Each record is written with one synchronous append, so records of several writers sharing a
 * file do not interleave and none is lost if the process dies right after.
 *
 * @example
 * ```ts
 * const keylog = KeyLogWriter.open(process.env.HIPL_KEYLOG ?? 'hipl-esp.keys');
 * keylog.write({ srcAddress: local, dstAddress: peer, spi: outbound.spi, suite, encKey, authKey });
 * keylog.close();
 * ```
 */
export class KeyLogWriter {
  #fd: number | undefined;
  readonly #opts: EspSaUatOptions;

  private constructor(fd: number, opts: EspSaUatOptions) {
    this.#fd = fd;
    this.#opts = opts;
  }

  /**
   * Open `path` for appending, creating it with mode 0600. An existing file is tightened to
   * 0600 too, since it is about to hold keys.
   *
   * @throws HipArgumentError `ERR_KEYLOG_OPEN` (with the `node:fs` error as `cause` and its
   *   code in `details.errno`) when the file cannot be opened or its mode cannot be set;
   *   `ERR_KEYLOG_BAD_OPTION` for a bad option.
   */
  static open(path: string, opts: EspSaUatOptions = {}): KeyLogWriter {
    checkAddressOption(opts);
    if (typeof path !== 'string' || path === '') {
      throw new HipArgumentError('ERR_KEYLOG_OPEN', 'key log path must be a non-empty string');
    }
    let fd: number;
    try {
      fd = openSync(path, 'a', 0o600);
    } catch (e) {
      throw openError(e, path);
    }
    try {
      // The mode given to openSync only applies when the file is created.
      fchmodSync(fd, 0o600);
    } catch (e) {
      closeSync(fd);
      throw openError(e, path);
    }
    return new KeyLogWriter(fd, { ...opts });
  }

  /**
   * Append the record of one SA (see {@link espSaUatLine}) and a newline.
   *
   * @throws as {@link espSaUatLine}; HipArgumentError `ERR_KEYLOG_CLOSED` after
   *   {@link KeyLogWriter.close}, `ERR_KEYLOG_WRITE` if the write fails.
   */
  write(sa: KeylogSa): void {
    const fd = this.#fd;
    if (fd === undefined) throw new HipArgumentError('ERR_KEYLOG_CLOSED', 'the key log is closed');
    const line = Buffer.from(`${espSaUatLine(sa, this.#opts)}\n`, 'utf8');
    try {
      writeSync(fd, line);
    } catch (e) {
      throw withCause(new HipArgumentError('ERR_KEYLOG_WRITE', 'could not write to the key log', { errno: errnoOf(e) }), e);
    }
  }

  /** Close the file. Idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    closeSync(fd);
  }
}

/**
 * tshark arguments that turn on ESP decryption with the given `esp_sa` records: the lines of a
 * key log (blank and `#` lines are skipped, a string holding several lines is split). The ICV
 * check is left off because Wireshark 4.0 cannot verify HIP's ESN ICVs (see the module notes);
 * add `-o esp.enable_authentication_check:TRUE` to see its verdicts anyway.
 *
 * @example
 * ```ts
 * const lines = readFileSync(keylogPath, 'utf8').split('\n');
 * execFile('tshark', ['-r', pcap, ...tsharkDecodeAsUdpEsp(10500), ...tsharkEspOptions(lines)]);
 * ```
 */
export function tsharkEspOptions(lines: string[]): string[] {
  const out = ['-o', 'esp.enable_encryption_decode:TRUE'];
  for (const chunk of lines) {
    for (const raw of String(chunk).split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      out.push('-o', `uat:esp_sa:${line}`);
    }
  }
  return out;
}

/**
 * tshark arguments that hand UDP datagrams on `port` to the `udpencap` dissector, which passes
 * those with a non-zero first word (ESP) to the ESP dissector. HIP control packets on the same
 * port then show as ISAKMP: dissect them in a pass without these arguments.
 *
 * @throws HipArgumentError `ERR_KEYLOG_BAD_PORT` unless `port` is an integer in 1..65535.
 * @example
 * ```ts
 * tsharkDecodeAsUdpEsp(10500) // ['-d', 'udp.port==10500,udpencap']
 * ```
 */
export function tsharkDecodeAsUdpEsp(port: number): string[] {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_PORT', 'port must be an integer in 1..65535', { port });
  }
  return ['-d', `udp.port==${String(port)},udpencap`];
}

function checkAddressOption(opts: EspSaUatOptions): 'exact' | 'any' {
  if (typeof opts !== 'object' || opts === null) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_OPTION', 'options must be an object');
  }
  const a = opts.addresses ?? 'exact';
  if (a !== 'exact' && a !== 'any') {
    throw new HipArgumentError('ERR_KEYLOG_BAD_OPTION', "addresses must be 'exact' or 'any'", { addresses: a });
  }
  return a;
}

function checkKey(key: unknown, length: number, role: string, suite: number): void {
  if (!(key instanceof Uint8Array) || key.length !== length) {
    throw new HipArgumentError('ERR_KEYLOG_BAD_KEY', `suite ${String(suite)} needs a ${String(length)}-byte ${role} key`, {
      suite,
      expected: length,
      actual: key instanceof Uint8Array ? key.length : undefined,
    });
  }
}

/** An empty key is an empty field: `0x` alone would be read as a key of its own. */
function hexKey(key: Uint8Array): string {
  return key.length === 0 ? '' : `0x${bytesToHex(key)}`;
}

interface NormalAddress {
  family: 4 | 6;
  text: string;
}

function normaliseAddress(address: unknown, role: string): NormalAddress {
  const family = typeof address === 'string' ? isIP(address) : 0;
  if (family === 4) return { family, text: address as string };
  if (family === 6) return { family, text: expandIpv6(address as string) };
  throw new HipArgumentError('ERR_KEYLOG_BAD_ADDRESS', `${role} address is not an IPv4 or IPv6 address`, {
    address: String(address),
  });
}

/** Eight 4-digit groups, from IPv6 text that `net.isIP` accepted (zone and dotted tail allowed). */
function expandIpv6(text: string): string {
  let s = text.split('%')[0] ?? '';
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const n = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((n[0] << 8) | n[1]).toString(16)}:${((n[2] << 8) | n[3]).toString(16)}`;
  }
  const words = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const halves = s.split('::');
  const head = words(halves[0] ?? '');
  const tail = halves.length > 1 ? words(halves[1] ?? '') : [];
  const all = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return all.map((w) => w.toLowerCase().padStart(4, '0')).join(':');
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Keep the `node:fs` error reachable for debugging, as `Error.cause` does elsewhere. */
function withCause(err: HipArgumentError, cause: unknown): HipArgumentError {
  err.cause = cause;
  return err;
}

function openError(e: unknown, path: string): HipArgumentError {
  const errno = errnoOf(e);
  const message = `could not open the key log ${path}${errno === undefined ? '' : ` (${errno})`}`;
  return withCause(new HipArgumentError('ERR_KEYLOG_OPEN', message, { path, errno }), e);
}
