/**
 * ESP security associations: turning payloads into ESP packets and back (RFC 7402 over
 * RFC 4303 transport/BEET format, 64-bit Extended Sequence Numbers always on, as HIP requires).
 *
 * An SA is one direction: a host holds an {@link OutboundSa} per peer to send with and an
 * {@link InboundSa} per peer to receive with, each keyed from its own KEYMAT slot.
 *
 * Packet layouts (`SeqHigh`/`SeqLow` are the halves of the 64-bit sequence number; only
 * `SeqLow` is sent):
 *
 * ```
 * AES-CBC + HMAC (suites 1, 8, 9)
 *   SPI(4) | SeqLow(4) | IV(16, random) | AES-CBC(payload | 1,2,3,…,padLen | padLen(1) | nextHdr(1)) | ICV
 *   the encrypted part is a multiple of 16 bytes
 *   ICV = first 12 (SHA-1) or 16 (SHA-256) bytes of
 *         HMAC(authKey, SPI | SeqLow | IV | ciphertext | SeqHigh)
 *
 * NULL + HMAC-SHA-256-128 (suite 7: integrity only)
 *   SPI(4) | SeqLow(4) | payload | 1,2,3,…,padLen | padLen(1) | nextHdr(1) | ICV(16)
 *   payload through nextHdr a multiple of 4 bytes
 *   ICV = first 16 bytes of HMAC-SHA-256(authKey, SPI | SeqLow | payload … nextHdr | SeqHigh)
 *
 * AES-GCM (suites 12 and 13, RFC 4106 with ESN)
 *   SPI(4) | SeqLow(4) | IV(8) | AES-GCM(payload | 1,2,3,…,padLen | padLen(1) | nextHdr(1)) | ICV(8 or 16)
 *   payload through nextHdr a multiple of 4 bytes
 *   IV    = SeqHigh | SeqLow  (the sequence number never repeats under one key, so neither does the nonce)
 *   nonce = salt (last 4 bytes of the encryption KEYMAT slot) | IV
 *   AAD   = SPI | SeqHigh | SeqLow
 *   ICV   = the GCM tag (truncated to 8 bytes for suite 12)
 * ```
 *
 * With `sequence: '32bit'` (HIPL's hipd, a deviation from RFC 5202 §3.3.1 for interoperability)
 * the ICV covers the 32 bits sent and nothing else: the HMAC input has no SeqHigh and the GCM AAD
 * is SPI | SeqLow. The counter is still kept in 64 bits, but such an SA never wraps: after
 * 2^32 - 1 packets it refuses to seal (`ERR_ESP_SEQ_EXHAUSTED`) and must be rekeyed.
 *
 * On receipt the padding bytes are checked to be 1, 2, 3, … (RFC 4303 §2.4 lets the receiver
 * check them). The window is consulted before the ICV and updated only when the whole packet
 * has been accepted, so neither forged nor malformed packets move it.
 *
 * The per-packet path uses node:crypto directly (one cipher context per packet, as few cipher
 * calls and buffers per packet as the API allows) because it is the throughput-critical part of
 * the library.
 * @module
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  timingSafeEqual,
  type CipherGCM,
  type CipherGCMTypes,
  type KeyObject,
} from 'node:crypto';
import { HipEspError } from '../errors.js';
import { fillRandomIv } from './iv.js';
import { ReplayWindow } from './replay.js';
import { MIN_SPI } from './spi.js';
import { espKeymatLengths, espSuite, type EspSuiteInfo } from './suites.js';

/** The keys of one SA direction, as drawn from KEYMAT for the negotiated suite. */
export interface SaKeys {
  /** ESP transform suite ID (see {@link ESP_SUITES}). */
  suite: number;
  /** The SPI the receiving side chose (carried in its ESP_INFO); at least 256. */
  spi: number;
  /** Encryption key; for GCM the 16-byte AES key followed by the 4-byte salt; empty for suite 7. */
  encKey: Uint8Array;
  /** HMAC key; empty for GCM. */
  authKey: Uint8Array;
}

/**
 * What the ESP integrity check covers of the sequence number: `'esn'` (RFC 5202 §3.3.1, RFC 4303
 * §2.2.1: the 64-bit Extended Sequence Number, high half included, the default) or `'32bit'`
 * (only the 32 bits on the wire, as HIPL's hipd does; the SA then never goes past 2^32 - 1).
 */
export type EspSequenceMode = 'esn' | '32bit';

/** Options of an {@link OutboundSa}. */
export interface OutboundSaOptions {
  /** What the ICV covers of the sequence number. Default `'esn'`. */
  sequence?: EspSequenceMode;
  /** Source of CBC IVs (tests use a fixed one); default: node:crypto's CSPRNG. */
  randomIv?: (n: number) => Uint8Array;
  /**
   * Sequence number from which {@link OutboundSa.needsRekey} turns true; default
   * 2^64 - 2^32 (`'32bit'`: 2^32 - 2^20), far enough below exhaustion for a rekey to complete.
   */
  rekeyThreshold?: bigint;
  /** Value of {@link OutboundSa.seq} at the start, so the first packet carries this + 1 (tests). */
  initialSeq?: bigint;
}

/** Options of an {@link InboundSa}. */
export interface InboundSaOptions {
  /** What the ICV covers of the sequence number; must match the sender's. Default `'esn'`. */
  sequence?: EspSequenceMode;
  /** Anti-replay window size in packets, 1..65536; default 64 (RFC 4303's suggestion). */
  replayWindow?: number;
}

/** Traffic counters of an SA: packets and payload bytes (ESP headers and trailers not counted). */
export interface EspStats {
  /** Packets sealed or accepted. */
  packets: number;
  /** Payload bytes in those packets. */
  bytes: number;
}

/** Why an inbound packet was dropped. */
export type EspDropReason = 'malformed' | 'auth' | 'replay';

/** Counters of an {@link InboundSa}, including drops by reason. */
export interface InboundEspStats extends EspStats {
  /**
   * Packets dropped, by reason. Packets for another SPI are not counted: they were never this
   * SA's.
   */
  drops: Record<EspDropReason, number>;
}

/** An accepted ESP packet. */
export interface OpenedEspPacket {
  /** The protected payload (a fresh buffer, not a view of the packet). */
  payload: Uint8Array;
  /**
   * The ESP Next Header: the upper-layer protocol (6 TCP, 17 UDP, …). 59 marks a dummy packet
   * the caller should discard (RFC 4303 §2.6).
   */
  nextHeader: number;
  /** The full 64-bit sequence number, with its inferred high half. */
  seq: bigint;
}

const HEADER = 8; // SPI + SeqLow
const CBC_IV = 16;
const GCM_IV = 8;
const TWO32 = 4294967296;
const MAX_SEQ = (1n << 64n) - 1n;
const DEFAULT_REKEY_THRESHOLD = (1n << 64n) - (1n << 32n);
const DEFAULT_REKEY_THRESHOLD_32 = (1n << 32n) - (1n << 20n);
/** Highest sequence number of a `'32bit'` SA: it never wraps to 0. */
const MAX_SEQ_32 = 0xffffffff;

function checkSequenceMode(v: unknown): EspSequenceMode {
  if (v === undefined) return 'esn';
  if (v !== 'esn' && v !== '32bit') {
    throw new HipEspError('ERR_ESP_BAD_OPTION', `sequence must be 'esn' or '32bit', got ${String(v)}`, { option: 'sequence' });
  }
  return v;
}

const enum Kind {
  Cbc,
  Null,
  Gcm,
}

/** What both directions precompute from the keys. */
interface Prepared {
  info: EspSuiteInfo;
  kind: Kind;
  spi: number;
  cipher: string;
  hash: string;
  icv: number;
  enc: KeyObject | undefined;
  auth: KeyObject | undefined;
  /**
   * The bytes the per-packet path rewrites, in one allocation an SA keeps for its lifetime (one
   * ArrayBuffer, not one per field, and outside Buffer's shared pool, whose 8 KiB slabs a
   * long-lived slice would pin): the 12-byte GCM nonce starting with the salt, the 12-byte AAD
   * starting with the SPI, the 4-byte ESN high half (inbound).
   */
  scratch: Buffer;
}

function prepare(keys: SaKeys): Prepared {
  if (typeof keys !== 'object' || keys === null) {
    throw new HipEspError('ERR_ESP_BAD_ARGUMENT', 'SA keys must be an object');
  }
  const info = espSuite(keys.suite);
  const { spi, encKey, authKey } = keys;
  if (!Number.isInteger(spi) || spi < MIN_SPI || spi > 0xffffffff) {
    throw new HipEspError('ERR_ESP_BAD_SA', `SPI must be an integer in 256..2^32-1, got ${String(spi)}`, { spi });
  }
  const want = espKeymatLengths(info.id);
  if (!(encKey instanceof Uint8Array) || encKey.length !== want.enc) {
    throw new HipEspError('ERR_ESP_BAD_KEY', `suite ${String(info.id)} needs a ${String(want.enc)}-byte encryption key`, {
      suite: info.id,
      expected: want.enc,
      actual: encKey instanceof Uint8Array ? encKey.length : undefined,
    });
  }
  if (!(authKey instanceof Uint8Array) || authKey.length !== want.auth) {
    throw new HipEspError('ERR_ESP_BAD_KEY', `suite ${String(info.id)} needs a ${String(want.auth)}-byte authentication key`, {
      suite: info.id,
      expected: want.auth,
      actual: authKey instanceof Uint8Array ? authKey.length : undefined,
    });
  }
  const kind = info.cipher === 'aes-cbc' ? Kind.Cbc : info.cipher === 'null' ? Kind.Null : Kind.Gcm;
  const aesBits = String(info.encKeyLength * 8);
  return {
    info,
    kind,
    spi,
    cipher: kind === Kind.Gcm ? `aes-${aesBits}-gcm` : `aes-${aesBits}-cbc`,
    hash: info.hmac ?? '',
    icv: info.icvLength,
    // KeyObjects copy the key bytes, so later changes to the caller's arrays cannot reach the SA.
    enc: info.encKeyLength > 0 ? createSecretKey(encKey.subarray(0, info.encKeyLength)) : undefined,
    auth: info.authKeyLength > 0 ? createSecretKey(authKey) : undefined,
    scratch: newScratch(encKey.subarray(info.encKeyLength), spi),
  };
}

function newScratch(salt: Uint8Array, spi: number): Buffer {
  const b = Buffer.alloc(28);
  b.set(salt, 0);
  b.writeUInt32BE(spi, 12);
  return b;
}

/** The nonce, AAD (12 bytes with ESN, 8 without) and ESN high-half views of an SA's scratch bytes. */
function scratchViews(p: Prepared, esn: boolean): { nonce: Buffer; aad: Buffer; seqHigh: Buffer } {
  return { nonce: p.scratch.subarray(0, 12), aad: p.scratch.subarray(12, esn ? 24 : 20), seqHigh: p.scratch.subarray(24, 28) };
}

/** Plaintext length (payload + padding + 2 trailer bytes) for a payload of `p` bytes. */
function paddedLength(kind: Kind, p: number): number {
  return kind === Kind.Cbc ? (p + 2 + 15) & ~15 : (p + 2 + 3) & ~3;
}

/** Write the padding 1, 2, 3, … and the two trailer bytes so they end at `end`. */
function writeTrailer(out: Buffer, start: number, end: number, nextHeader: number): void {
  const padLen = end - start - 2;
  for (let i = 0; i < padLen; i++) out[start + i] = i + 1;
  out[end - 2] = padLen;
  out[end - 1] = nextHeader;
}

/**
 * The sending half of an ESP SA: seals payloads into ESP packets with consecutive sequence
 * numbers.
 *
 * @example
 * ```ts
 * const out = new OutboundSa({ suite: 8, spi: peerSpi, encKey, authKey });
 * udp.send(out.seal(tcpSegment, 6), peerPort, peerAddress);
 * if (out.needsRekey) startRekey();
 * ```
 */
export class OutboundSa {
  /** The SA's suite. */
  readonly suite: EspSuiteInfo;
  /** The SPI written into every packet (the peer's inbound SPI). */
  readonly spi: number;
  /** Packets and payload bytes sealed so far. */
  readonly stats: EspStats = { packets: 0, bytes: 0 };
  readonly #p: Prepared;
  readonly #randomIv: ((n: number) => Uint8Array) | undefined;
  readonly #rekeyHi: number;
  readonly #rekeyLo: number;
  readonly #esn: boolean;
  #needsRekey: boolean;
  #hi: number;
  #lo: number;
  readonly #nonce: Buffer;
  readonly #aad: Buffer;

  /**
   * Set up the sending side from the keys of one KEYMAT slot pair.
   *
   * @throws HipEspError `ERR_ESP_UNSUPPORTED_SUITE`, `ERR_ESP_BAD_SA` (SPI), `ERR_ESP_BAD_KEY`
   *   (key lengths), `ERR_ESP_BAD_OPTION` (sequence options out of 0..2^64-1).
   */
  constructor(keys: SaKeys, opts: OutboundSaOptions = {}) {
    this.#p = prepare(keys);
    this.suite = this.#p.info;
    this.spi = this.#p.spi;
    this.#randomIv = opts.randomIv;
    this.#esn = checkSequenceMode(opts.sequence) === 'esn';
    const initial = checkSeqOption('initialSeq', opts.initialSeq ?? 0n);
    const threshold = checkSeqOption('rekeyThreshold', opts.rekeyThreshold ?? (this.#esn ? DEFAULT_REKEY_THRESHOLD : DEFAULT_REKEY_THRESHOLD_32));
    this.#hi = Number(initial >> 32n);
    this.#lo = Number(initial & 0xffffffffn);
    this.#rekeyHi = Number(threshold >> 32n);
    this.#rekeyLo = Number(threshold & 0xffffffffn);
    this.#needsRekey = initial >= threshold;
    ({ nonce: this.#nonce, aad: this.#aad } = scratchViews(this.#p, this.#esn));
  }

  /** What the ICV covers of the sequence number. */
  get sequence(): EspSequenceMode {
    return this.#esn ? 'esn' : '32bit';
  }

  /** The sequence number of the last packet sealed (0n before the first). */
  get seq(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** True once {@link OutboundSa.seq} has reached the rekey threshold: time for an UPDATE. */
  get needsRekey(): boolean {
    return this.#needsRekey;
  }

  /**
   * Protect one payload and return the whole ESP packet (a new Buffer).
   *
   * @param payload the upper-layer bytes (e.g. a UDP datagram or TCP segment).
   * @param nextHeader the upper-layer protocol number, 0..255.
   * @throws HipEspError `ERR_ESP_SEQ_EXHAUSTED` once 2^64 - 1 packets (`'32bit'`: 2^32 - 1)
   *   have been sealed (the SA must be replaced), `ERR_ESP_BAD_ARGUMENT` for a non-byte payload or bad nextHeader.
   */
  seal(payload: Uint8Array, nextHeader: number): Uint8Array {
    if (!(payload instanceof Uint8Array)) {
      throw new HipEspError('ERR_ESP_BAD_ARGUMENT', 'payload must be a Uint8Array');
    }
    checkNextHeader(nextHeader);
    this.#advance();
    const hi = this.#hi;
    const lo = this.#lo;
    const p = this.#p;
    let out: Buffer;
    if (p.kind === Kind.Cbc) out = this.#sealCbc(payload, nextHeader, hi, lo);
    else if (p.kind === Kind.Gcm) out = this.#sealGcm(payload, nextHeader, hi, lo);
    else out = this.#sealNull(payload, nextHeader, hi, lo);
    this.stats.packets++;
    this.stats.bytes += payload.length;
    return out;
  }

  /**
   * Protect one payload given as consecutive pieces (e.g. a segment header and the data it
   * carries) and return the ESP packet as pieces too, to be written out together (a gathered
   * write). With AES-GCM the packet is never joined into one buffer: the pieces are the header,
   * the ciphertext and the ICV. Other suites seal the joined pieces and return one buffer. The
   * bytes are exactly those {@link seal} would produce.
   *
   * @throws as {@link seal}.
   */
  sealParts(parts: readonly Uint8Array[], nextHeader: number): Buffer[] {
    let len = 0;
    for (const part of parts) {
      if (!(part instanceof Uint8Array)) throw new HipEspError('ERR_ESP_BAD_ARGUMENT', 'payload pieces must be Uint8Arrays');
      len += part.length;
    }
    const p = this.#p;
    if (p.kind !== Kind.Gcm) return [this.seal(parts.length === 1 ? parts[0]! : Buffer.concat(parts), nextHeader) as Buffer];
    checkNextHeader(nextHeader);
    this.#advance();
    const head = Buffer.allocUnsafe(HEADER + GCM_IV);
    const c = this.#gcmStart(head, this.#hi, this.#lo);
    const padded = paddedLength(Kind.Gcm, len);
    let out: Buffer[];
    if (padded <= STAGE_BYTES) {
      // Each update() call costs more than copying a few KiB (npx tsx bench/seal-parts.ts): the
      // plaintext is gathered into the staging buffer and encrypted by one call. update()
      // returns a new buffer, so nothing of the staging buffer leaves this call.
      const stage = stagingBuffer();
      let at = 0;
      for (const part of parts) {
        stage.set(part, at);
        at += part.length;
      }
      writeTrailer(stage, len, padded, nextHeader);
      const ct = c.update(stage.subarray(0, padded));
      c.final();
      out = [head, ct, c.getAuthTag()];
    } else {
      // Large pieces are not copied: one update() per piece (GCM is a counter mode, each call
      // returns exactly as many bytes as it was given), the trailer and ICV in one last piece.
      out = [head];
      for (const part of parts) if (part.length > 0) out.push(c.update(part));
      const trailer = padded - len;
      const tail = Buffer.allocUnsafe(trailer + p.icv);
      writeTrailer(tail, 0, trailer, nextHeader);
      c.update(tail.subarray(0, trailer)).copy(tail, 0);
      c.final();
      c.getAuthTag().copy(tail, trailer);
      out.push(tail);
    }
    this.stats.packets++;
    this.stats.bytes += len;
    return out;
  }

  /** Take the next sequence number (into #hi/#lo), or refuse once the space is used up. */
  #advance(): void {
    let hi = this.#hi;
    let lo = this.#lo + 1;
    if (!this.#esn && lo > MAX_SEQ_32) {
      throw new HipEspError('ERR_ESP_SEQ_EXHAUSTED', 'ESP sequence number space (32 bits) exhausted; the SA must be rekeyed', { spi: this.spi });
    }
    if (lo === TWO32) {
      if (hi === 0xffffffff) {
        throw new HipEspError('ERR_ESP_SEQ_EXHAUSTED', 'ESP sequence number space exhausted; the SA must be rekeyed', { spi: this.spi });
      }
      lo = 0;
      hi += 1;
    }
    this.#hi = hi;
    this.#lo = lo;
    if (!this.#needsRekey && (hi > this.#rekeyHi || (hi === this.#rekeyHi && lo >= this.#rekeyLo))) {
      this.#needsRekey = true;
    }
  }

  #sealCbc(payload: Uint8Array, nextHeader: number, hi: number, lo: number): Buffer {
    const p = this.#p;
    const ctStart = HEADER + CBC_IV;
    const ctEnd = ctStart + paddedLength(Kind.Cbc, payload.length);
    const out = Buffer.allocUnsafe(ctEnd + p.icv);
    out.writeUInt32BE(p.spi, 0);
    out.writeUInt32BE(lo, 4);
    if (this.#randomIv === undefined) fillRandomIv(out, HEADER, CBC_IV);
    else copyRandom(this.#randomIv, out, HEADER, CBC_IV);
    // The plaintext is staged where its ciphertext will land, so one update() call (each call
    // costs an allocation) covers it; the ciphertext then overwrites it.
    out.set(payload, ctStart);
    writeTrailer(out, ctStart + payload.length, ctEnd, nextHeader);
    const c = createCipheriv(p.cipher, p.enc!, out.subarray(HEADER, ctStart));
    c.setAutoPadding(false);
    c.update(out.subarray(ctStart, ctEnd)).copy(out, ctStart);
    c.final();
    this.#writeHmacIcv(out, ctEnd, hi);
    return out;
  }

  #sealNull(payload: Uint8Array, nextHeader: number, hi: number, lo: number): Buffer {
    const p = this.#p;
    const end = HEADER + paddedLength(Kind.Null, payload.length);
    const out = Buffer.allocUnsafe(end + p.icv);
    out.writeUInt32BE(p.spi, 0);
    out.writeUInt32BE(lo, 4);
    out.set(payload, HEADER);
    writeTrailer(out, HEADER + payload.length, end, nextHeader);
    this.#writeHmacIcv(out, end, hi);
    return out;
  }

  /** HMAC over `out[0, end)` then (ESN) SeqHigh; SeqHigh is staged where the ICV then goes. */
  #writeHmacIcv(out: Buffer, end: number, hi: number): void {
    const p = this.#p;
    if (this.#esn) out.writeUInt32BE(hi, end);
    const d = createHmac(p.hash, p.auth!).update(out.subarray(0, this.#esn ? end + 4 : end)).digest();
    d.copy(out, end, 0, p.icv);
  }

  /**
   * Write the ESP header and IV (the 64-bit sequence number, RFC 4106 §3.1) for sequence `hi:lo`
   * at the start of `out`, and return a GCM cipher keyed with this SA's nonce and AAD for it.
   */
  #gcmStart(out: Buffer, hi: number, lo: number): CipherGCM {
    const p = this.#p;
    out.writeUInt32BE(p.spi, 0);
    out.writeUInt32BE(lo, 4);
    out.writeUInt32BE(hi, 8);
    out.writeUInt32BE(lo, 12);
    const nonce = this.#nonce;
    nonce.writeUInt32BE(hi, 4);
    nonce.writeUInt32BE(lo, 8);
    const aad = this.#aad;
    writeAad(aad, hi, lo);
    const c = createCipheriv(p.cipher as CipherGCMTypes, p.enc!, nonce, { authTagLength: p.icv });
    c.setAAD(aad);
    return c;
  }

  #sealGcm(payload: Uint8Array, nextHeader: number, hi: number, lo: number): Buffer {
    const p = this.#p;
    const ctStart = HEADER + GCM_IV;
    const ctEnd = ctStart + paddedLength(Kind.Gcm, payload.length);
    const out = Buffer.allocUnsafe(ctEnd + p.icv);
    const c = this.#gcmStart(out, hi, lo);
    out.set(payload, ctStart);
    writeTrailer(out, ctStart + payload.length, ctEnd, nextHeader);
    c.update(out.subarray(ctStart, ctEnd)).copy(out, ctStart);
    c.final();
    c.getAuthTag().copy(out, ctEnd);
    return out;
  }
}

/**
 * Largest plaintext {@link OutboundSa.sealParts} gathers into the staging buffer before one
 * cipher call: up to 16 KiB of data with a segment header and the trailer. Beyond it, copying
 * costs as much as the update() calls it saves.
 */
const STAGE_BYTES = 16 * 1024 + 64;
let staging: Buffer | undefined;

/** The staging buffer every SA shares: sealing is synchronous and keeps no view of it. */
function stagingBuffer(): Buffer {
  // Outside Buffer's pool (a slice would pin a shared slab) and made on first use only.
  return (staging ??= Buffer.allocUnsafeSlow(STAGE_BYTES));
}

function checkNextHeader(nextHeader: number): void {
  if (!Number.isInteger(nextHeader) || nextHeader < 0 || nextHeader > 255) {
    throw new HipEspError('ERR_ESP_BAD_ARGUMENT', `next header must be an integer in 0..255, got ${String(nextHeader)}`);
  }
}

/** Write the sequence number into a GCM AAD after the SPI: SeqHigh | SeqLow (ESN, 12 bytes) or SeqLow (8 bytes). */
function writeAad(aad: Buffer, hi: number, lo: number): void {
  if (aad.length === 12) {
    aad.writeUInt32BE(hi, 4);
    aad.writeUInt32BE(lo, 8);
  } else aad.writeUInt32BE(lo, 4);
}

function checkSeqOption(name: string, v: bigint): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_SEQ) {
    throw new HipEspError('ERR_ESP_BAD_OPTION', `${name} must be a bigint in 0..2^64-1`, { option: name });
  }
  return v;
}

function copyRandom(random: (n: number) => Uint8Array, out: Buffer, offset: number, n: number): void {
  const r = random(n);
  if (!(r instanceof Uint8Array) || r.length < n) {
    throw new HipEspError('ERR_ESP_BAD_RANDOM', `random source returned fewer than ${String(n)} bytes`);
  }
  out.set(r.subarray(0, n), offset);
}

/** An accepted packet, as {@link InboundSa.open} returns it: no bigint is made per packet unless `seq` is read. */
class OpenedPacket implements OpenedEspPacket {
  readonly #hi: number;
  readonly #lo: number;

  constructor(
    readonly payload: Uint8Array,
    readonly nextHeader: number,
    hi: number,
    lo: number,
  ) {
    this.#hi = hi;
    this.#lo = lo;
  }

  get seq(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }
}

/**
 * The receiving half of an ESP SA: authenticates, decrypts and replay-checks ESP packets.
 *
 * @example
 * ```ts
 * const inbound = new InboundSa({ suite: 8, spi: ourSpi, encKey, authKey });
 * try {
 *   const { payload, nextHeader } = inbound.open(datagram);
 *   deliver(payload, nextHeader);
 * } catch (e) {
 *   if (!(e instanceof HipEspError)) throw e; // dropped; inbound.stats.drops says why
 * }
 * ```
 */
export class InboundSa {
  /** The SA's suite. */
  readonly suite: EspSuiteInfo;
  /** The SPI this SA receives on (the one we chose). */
  readonly spi: number;
  /** Packets and payload bytes accepted, and drops by reason. */
  readonly stats: InboundEspStats = { packets: 0, bytes: 0, drops: { malformed: 0, auth: 0, replay: 0 } };
  readonly #p: Prepared;
  readonly #window: ReplayWindow;
  readonly #nonce: Buffer;
  readonly #aad: Buffer;
  readonly #seqHigh: Buffer;
  readonly #esn: boolean;

  /**
   * Set up the receiving side from the keys of one KEYMAT slot pair.
   *
   * @throws HipEspError `ERR_ESP_UNSUPPORTED_SUITE`, `ERR_ESP_BAD_SA` (SPI), `ERR_ESP_BAD_KEY`
   *   (key lengths), `ERR_ESP_BAD_OPTION` (window size).
   */
  constructor(keys: SaKeys, opts: InboundSaOptions = {}) {
    this.#p = prepare(keys);
    this.suite = this.#p.info;
    this.spi = this.#p.spi;
    this.#window = new ReplayWindow(opts.replayWindow ?? 64);
    this.#esn = checkSequenceMode(opts.sequence) === 'esn';
    ({ nonce: this.#nonce, aad: this.#aad, seqHigh: this.#seqHigh } = scratchViews(this.#p, this.#esn));
  }

  /** The highest sequence number accepted so far (0n before the first). */
  get highestSeq(): bigint {
    return this.#window.top;
  }

  /** What the ICV covers of the sequence number. */
  get sequence(): EspSequenceMode {
    return this.#esn ? 'esn' : '32bit';
  }

  /** The anti-replay window size in packets. */
  get replayWindow(): number {
    return this.#window.size;
  }

  /**
   * Verify and decrypt one ESP packet.
   *
   * @throws HipEspError `ERR_ESP_MALFORMED` (too short, wrong length for the cipher, bad padding
   *   or padding length), `ERR_ESP_BAD_SPI` (the packet belongs to another SA),
   *   `ERR_ESP_REPLAY` (already received, or left of the window), `ERR_ESP_AUTH` (ICV mismatch).
   */
  open(packet: Uint8Array): OpenedEspPacket {
    if (!(packet instanceof Uint8Array) || packet.length < HEADER) {
      this.#drop('malformed', 'ESP packet shorter than its 8-byte header');
    }
    const buf = Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const spi = buf.readUInt32BE(0);
    if (spi !== this.spi) {
      throw new HipEspError('ERR_ESP_BAD_SPI', `ESP packet for SPI ${String(spi)} reached the SA of SPI ${String(this.spi)}`, {
        spi,
        expected: this.spi,
      });
    }
    const p = this.#p;
    const len = buf.length;
    const ctEnd = len - p.icv;
    if (p.kind === Kind.Cbc) {
      const ctLen = ctEnd - HEADER - CBC_IV;
      if (ctLen < 16 || ctLen % 16 !== 0) {
        this.#drop('malformed', 'AES-CBC ciphertext is empty or not a multiple of 16 bytes', { length: len });
      }
    } else if (ctEnd < HEADER + (p.kind === Kind.Gcm ? GCM_IV : 0) + 2) {
      this.#drop('malformed', 'ESP packet too short for its trailer and ICV', { length: len });
    }

    const lo = buf.readUInt32BE(4);
    const win = this.#window;
    // A '32bit' sender never wraps, so its packets all live in subspace 0.
    const hi = this.#esn ? win.inferHigh(lo) : 0;
    const status = win.status(hi, lo);
    if (status !== 'fresh') {
      this.#drop('replay', `ESP packet ${status === 'duplicate' ? 'already received' : 'left of the replay window'}`, { seqHigh: hi, seqLow: lo });
    }

    let pt: Buffer | undefined;
    if (p.kind === Kind.Gcm) {
      pt = this.#openGcm(buf, ctEnd, hi, lo);
      if (pt === undefined) this.#authFailure(hi, lo, (h) => this.#openGcm(buf, ctEnd, h, lo) !== undefined);
    } else {
      if (!this.#hmacOk(buf, ctEnd, hi)) this.#authFailure(hi, lo, (h) => this.#hmacOk(buf, ctEnd, h));
      if (p.kind === Kind.Cbc) {
        const d = createDecipheriv(p.cipher, p.enc!, buf.subarray(HEADER, HEADER + CBC_IV));
        d.setAutoPadding(false);
        pt = d.update(buf.subarray(HEADER + CBC_IV, ctEnd));
        d.final();
      } else {
        pt = Buffer.from(buf.subarray(HEADER, ctEnd));
      }
    }

    const n = pt.length;
    const padLen = pt[n - 2]!;
    const nextHeader = pt[n - 1]!;
    const payloadEnd = n - 2 - padLen;
    if (payloadEnd < 0) this.#drop('malformed', 'ESP pad length exceeds the payload', { padLength: padLen });
    for (let i = 0; i < padLen; i++) {
      if (pt[payloadEnd + i] !== i + 1) this.#drop('malformed', 'ESP padding bytes are not 1, 2, 3, ...', { padLength: padLen });
    }

    win.update(hi, lo);
    this.stats.packets++;
    this.stats.bytes += payloadEnd;
    return new OpenedPacket(pt.subarray(0, payloadEnd), nextHeader, hi, lo);
  }

  #hmacOk(buf: Buffer, end: number, hi: number): boolean {
    const p = this.#p;
    const h = createHmac(p.hash, p.auth!).update(buf.subarray(0, end));
    if (this.#esn) {
      this.#seqHigh.writeUInt32BE(hi, 0);
      h.update(this.#seqHigh);
    }
    const d = h.digest();
    return timingSafeEqual(d.subarray(0, p.icv), buf.subarray(end));
  }

  /** Decrypt and verify a GCM packet; undefined when the tag does not match. */
  #openGcm(buf: Buffer, end: number, hi: number, lo: number): Buffer | undefined {
    const p = this.#p;
    const nonce = this.#nonce;
    buf.copy(nonce, 4, HEADER, HEADER + GCM_IV);
    const aad = this.#aad;
    writeAad(aad, hi, lo);
    const d = createDecipheriv(p.cipher as CipherGCMTypes, p.enc!, nonce, { authTagLength: p.icv });
    d.setAuthTag(buf.subarray(end));
    d.setAAD(aad);
    const pt = d.update(buf.subarray(HEADER + GCM_IV, end));
    try {
      d.final();
    } catch {
      return undefined;
    }
    return pt;
  }

  /**
   * The ICV failed under the inferred high half. If the packet, read one subspace lower, lies
   * left of the window and verifies there, it is a genuine old packet replayed: report that
   * rather than a forgery. Costs one more ICV check, only on this failure path.
   */
  #authFailure(hi: number, lo: number, verifiesWith: (seqHigh: number) => boolean): never {
    if (this.#esn && this.#window.olderReadingIsStale(hi, lo) && verifiesWith(hi - 1)) {
      this.#drop('replay', 'ESP packet left of the replay window', { seqHigh: hi - 1, seqLow: lo });
    }
    this.#drop('auth', 'ESP ICV does not match', { seqHigh: hi, seqLow: lo });
  }

  #drop(reason: EspDropReason, message: string, details: Record<string, unknown> = {}): never {
    this.stats.drops[reason]++;
    const code = reason === 'malformed' ? 'ERR_ESP_MALFORMED' : reason === 'auth' ? 'ERR_ESP_AUTH' : 'ERR_ESP_REPLAY';
    throw new HipEspError(code, message, { spi: this.spi, ...details });
  }
}

/**
 * The SPI of an ESP packet, to find its SA. In UDP encapsulation an SPI of 0 is the marker of a
 * HIP control packet, not ESP.
 *
 * @throws HipEspError `ERR_ESP_MALFORMED` when the packet is shorter than 4 bytes.
 * @example
 * ```ts
 * const sa = inboundBySpi.get(espSpi(datagram));
 * ```
 */
export function espSpi(packet: Uint8Array): number {
  if (!(packet instanceof Uint8Array) || packet.length < 4) {
    throw new HipEspError('ERR_ESP_MALFORMED', 'ESP packet shorter than its SPI');
  }
  return ((packet[0]! << 24) | (packet[1]! << 16) | (packet[2]! << 8) | packet[3]!) >>> 0;
}
