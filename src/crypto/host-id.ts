/**
 * Host Identity field encodings: the key bytes carried in a HOST_ID parameter and hashed into
 * the HIT. Only the Host Identity field is handled here; the HOST_ID TLV around it (lengths,
 * Domain Identifier, and for HIPv1 the 4-byte RDATA header) belongs to the wire codec.
 *
 * Decoding is strict on purpose: the HIT is a hash of these exact bytes, so accepting a
 * non-canonical spelling of a key (leading zeros, a long exponent length for a short exponent)
 * would give one key two HITs.
 * @module
 */

import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { concatBytes } from '../bytes.js';
import { HipIdentityError } from '../errors.js';
import { EcdsaCurveLabel, EddsaCurveLabel, HiAlgorithm, HitSuite } from '../wire/constants.js';
import type { PublicKeyMaterial, SignatureScheme } from './keys.js';

const ECDSA_CURVE = { 'P-256': EcdsaCurveLabel.P256, 'P-384': EcdsaCurveLabel.P384 } as const;

/** A Host Identity field together with the algorithm number that tells how to read it. */
export interface EncodedHostIdentity {
  /** HI algorithm number (`HiAlgorithm` in the wire constants). */
  algorithm: number;
  /** The Host Identity field bytes (for HIPv1: the key field without the RDATA header). */
  hostIdentity: Uint8Array;
}

/** libhipl (HIPv1) accepts RSA keys up to 4096 bits (HIPV1-PROFILE 5). */
const V1_MAX_RSA_BITS = 4096;
/** Keys below this cannot be trusted and are refused on both encode and decode. */
const MIN_RSA_BITS = 512;
/** Above this a HOST_ID plus its signature cannot fit one HIP packet (2008 bytes of parameters). */
const V2_MAX_RSA_BITS = 8192;

function bad(message: string, details?: Record<string, unknown>): HipIdentityError {
  return new HipIdentityError('ERR_IDENTITY_BAD_HOST_ID', message, details);
}

function unsupported(message: string, details?: Record<string, unknown>): HipIdentityError {
  return new HipIdentityError('ERR_IDENTITY_UNSUPPORTED', message, details);
}

function checkVersion(version: number): asserts version is 1 | 2 {
  if (version !== 1 && version !== 2) {
    throw unsupported(`unsupported HIP version ${String(version)}`, { version });
  }
}

function stripLeadingZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** Bit length of a big-endian unsigned integer without leading zero bytes. */
function bitLength(b: Uint8Array): number {
  const first = b[0] ?? 0;
  return first === 0 ? 0 : (b.length - 1) * 8 + (32 - Math.clz32(first));
}

function checkRsaSize(bits: number, version: 1 | 2): void {
  const max = version === 1 ? V1_MAX_RSA_BITS : V2_MAX_RSA_BITS;
  if (bits < MIN_RSA_BITS || bits > max) {
    throw unsupported(`RSA modulus of ${bits} bits is outside ${MIN_RSA_BITS}..${max} (HIPv${version})`, {
      bits,
      version,
    });
  }
}

function encodeRsa(n: Uint8Array, e: Uint8Array, version: 1 | 2): Uint8Array {
  const nn = stripLeadingZeros(n);
  const ee = stripLeadingZeros(e);
  if (ee.length === 0 || ee[0] === 0 || ((ee[ee.length - 1] ?? 0) & 1) === 0 || nn[0] === 0) {
    throw bad('RSA key has a zero or even exponent or a zero modulus');
  }
  checkRsaSize(bitLength(nn), version);
  // RFC 3110: one length byte for exponents up to 255 bytes, else 0x00 and a 16-bit length.
  const eLen =
    ee.length <= 255
      ? Uint8Array.of(ee.length)
      : Uint8Array.of(0, ee.length >>> 8, ee.length & 0xff);
  return concatBytes(eLen, ee, nn);
}

function decodeRsa(field: Uint8Array, version: 1 | 2): PublicKeyMaterial {
  if (field.length < 1) throw bad('empty RSA Host Identity');
  let off = 1;
  let eLen = field[0] ?? 0;
  if (eLen === 0) {
    if (field.length < 3) throw bad('RSA Host Identity truncated in the exponent length');
    eLen = ((field[1] ?? 0) << 8) | (field[2] ?? 0);
    off = 3;
    // The long form is only for exponents that do not fit the short one.
    if (eLen <= 255) throw bad('RSA Host Identity uses the long exponent length for a short exponent', { eLen });
  }
  if (field.length < off + eLen + 1) {
    throw bad('RSA Host Identity shorter than its exponent length says', { eLen, length: field.length });
  }
  const e = field.slice(off, off + eLen);
  const n = field.slice(off + eLen);
  if (e[0] === 0 || n[0] === 0) throw bad('RSA exponent or modulus has a leading zero byte');
  if (((e[e.length - 1] ?? 0) & 1) === 0 || (e.length === 1 && e[0] === 1)) {
    throw bad('RSA exponent must be odd and greater than 1');
  }
  if (((n[n.length - 1] ?? 0) & 1) === 0) throw bad('RSA modulus must be odd');
  checkRsaSize(bitLength(n), version);
  return { kind: 'rsa', n, e };
}

function ecdsaCurveImpl(curve: 'P-256' | 'P-384'): { coord: number; impl: typeof p256 } {
  return curve === 'P-256' ? { coord: 32, impl: p256 } : { coord: 48, impl: p384 };
}

function checkEcPoint(curve: 'P-256' | 'P-384', point: Uint8Array): void {
  const { coord, impl } = ecdsaCurveImpl(curve);
  if (point.length !== 1 + 2 * coord || point[0] !== 0x04) {
    throw bad(`ECDSA ${curve} point must be uncompressed (0x04 | X | Y)`, { length: point.length });
  }
  try {
    impl.Point.fromBytes(point).assertValidity();
  } catch {
    throw bad(`ECDSA ${curve} public key is not a point on the curve`);
  }
}

function encodeEcdsa(curve: 'P-256' | 'P-384', point: Uint8Array): Uint8Array {
  const label = ECDSA_CURVE[curve];
  if (label === undefined) throw unsupported(`unsupported ECDSA curve ${String(curve)}`);
  checkEcPoint(curve, point);
  // HIPL and hip-vpls send the 0x04 byte; it is part of what the HIT hashes (HIP-DIGEST 2.3).
  return concatBytes(Uint8Array.of(label >>> 8, label & 0xff), point);
}

function decodeEcdsa(field: Uint8Array): PublicKeyMaterial {
  if (field.length < 2) throw bad('ECDSA Host Identity shorter than its curve label');
  const label = ((field[0] ?? 0) << 8) | (field[1] ?? 0);
  const curve = label === EcdsaCurveLabel.P256 ? 'P-256' : label === EcdsaCurveLabel.P384 ? 'P-384' : undefined;
  if (curve === undefined) throw unsupported(`unsupported ECDSA curve label ${label}`, { label });
  const { coord } = ecdsaCurveImpl(curve);
  const key = field.subarray(2);
  let point: Uint8Array;
  if (key.length === 1 + 2 * coord && key[0] === 0x04) {
    point = key.slice();
  } else if (key.length === 2 * coord) {
    // rustdhipv2 omits the 0x04 byte; accept it and normalise the key material.
    point = concatBytes(Uint8Array.of(0x04), key);
  } else {
    throw bad(`ECDSA ${curve} Host Identity has a bad length`, { length: field.length });
  }
  checkEcPoint(curve, point);
  return { kind: 'ecdsa', curve, point };
}

function checkEd25519(key: Uint8Array): void {
  if (key.length !== 32) throw bad('Ed25519 public key must be 32 bytes', { length: key.length });
  try {
    ed25519.Point.fromBytes(key).assertValidity();
  } catch {
    throw bad('Ed25519 public key is not a valid point');
  }
}

function encodeEd25519(publicKey: Uint8Array): Uint8Array {
  checkEd25519(publicKey);
  return concatBytes(Uint8Array.of(0, EddsaCurveLabel.ED25519), publicKey);
}

function decodeEd25519(field: Uint8Array): PublicKeyMaterial {
  if (field.length < 2) throw bad('EdDSA Host Identity shorter than its curve label');
  const label = ((field[0] ?? 0) << 8) | (field[1] ?? 0);
  if (label !== EddsaCurveLabel.ED25519) throw unsupported(`unsupported EdDSA curve label ${label}`, { label });
  let key: Uint8Array;
  if (field.length === 34) {
    key = field.slice(2);
  } else if (field.length === 36 && field[2] === 0 && field[3] === 0) {
    // The RFC 9374 figure as some read it: curve | 16-bit zero field | key.
    key = field.slice(4);
  } else {
    throw bad('EdDSA Ed25519 Host Identity has a bad length', { length: field.length });
  }
  checkEd25519(key);
  return { kind: 'ed25519', publicKey: key };
}

/**
 * Encode a public key as a Host Identity field.
 *
 * HIPv2 (RFC 7401 §5.2.9):
 * - RSA (5): RFC 3110 `e_len | e | n`, `e_len` one byte, or `0x00` plus 16 bits when `e` is
 *   longer than 255 bytes.
 * - ECDSA (7): `curve(2) | 0x04 | X | Y` (P-256 label 1, P-384 label 2). The 0x04 byte is what
 *   HIPL and hip-vpls send; {@link decodeHostIdentity} also accepts the form without it.
 * - EdDSA (13), experimental: `curve(2) = 1 | key(32)`, 34 bytes. RFC 9374's figure can be read
 *   as having a 16-bit zero field between curve and key (36 bytes) while its author's DET
 *   script hashes the bare key; HIP-DIGEST 2.3 and 12.5 leave it open. We send the 34-byte form
 *   (no field the text does not clearly name) and accept both on decode.
 *
 * HIPv1 supports RSA only: the result is the key field *without* the 4-byte RDATA header
 * (flags 0x0202, protocol 0xFF, algorithm 5), which the wire codec adds (HIPV1-PROFILE 5).
 *
 * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for keys the version cannot carry,
 *   `ERR_IDENTITY_BAD_HOST_ID` for malformed key material.
 * @example
 * ```ts
 * const { algorithm, hostIdentity } = encodeHostIdentity(identity.publicKey, 2);
 * ```
 */
export function encodeHostIdentity(key: PublicKeyMaterial, version: 1 | 2): EncodedHostIdentity {
  checkVersion(version);
  if (version === 1 && key.kind !== 'rsa') {
    throw unsupported(`HIPv1 (libhipl) supports RSA host identities only, not ${key.kind}`, { kind: key.kind });
  }
  switch (key.kind) {
    case 'rsa':
      return { algorithm: HiAlgorithm.RSA, hostIdentity: encodeRsa(key.n, key.e, version) };
    case 'ecdsa':
      return { algorithm: HiAlgorithm.ECDSA, hostIdentity: encodeEcdsa(key.curve, key.point) };
    case 'ed25519':
      return { algorithm: HiAlgorithm.EDDSA, hostIdentity: encodeEd25519(key.publicKey) };
    default:
      throw unsupported(`unknown key kind ${String((key as { kind: unknown }).kind)}`);
  }
}

/**
 * Decode a Host Identity field received in a HOST_ID parameter into key material.
 * For HIPv1 `hostIdentity` is the key field after the RDATA header and `algorithm` the header's
 * algorithm byte; RSA keys up to 4096 bits are accepted, as libhipl does.
 *
 * @throws HipIdentityError `ERR_IDENTITY_BAD_HOST_ID` for malformed fields,
 *   `ERR_IDENTITY_UNSUPPORTED` for algorithms, curves or sizes hipl does not handle.
 * @example
 * ```ts
 * const key = decodeHostIdentity(hostId.algorithm, hostId.hostIdentity, 2);
 * ```
 */
export function decodeHostIdentity(algorithm: number, hostIdentity: Uint8Array, version: 1 | 2): PublicKeyMaterial {
  checkVersion(version);
  if (!(hostIdentity instanceof Uint8Array)) throw bad('Host Identity must be a Uint8Array');
  if (version === 1 && algorithm !== HiAlgorithm.RSA) {
    throw unsupported(`HIPv1 host identity algorithm ${algorithm} is not supported (RSA only)`, { algorithm });
  }
  switch (algorithm) {
    case HiAlgorithm.RSA:
      return decodeRsa(hostIdentity, version);
    case HiAlgorithm.ECDSA:
      return decodeEcdsa(hostIdentity);
    case HiAlgorithm.EDDSA:
      return decodeEd25519(hostIdentity);
    default:
      throw unsupported(`unsupported host identity algorithm ${algorithm}`, { algorithm });
  }
}

/**
 * All signature schemes a verifier should accept for this key, the one to sign with first.
 *
 * ECDSA on P-256 and on P-384 both belong to HIT suite 2, whose hash is SHA-384, so we sign
 * with SHA-384; but RFC 7401 does not name the hash, and some implementations (rustdhipv2)
 * pair P-256 with SHA-256 (HIP-DIGEST 2.7, 12.4), so verifying also accepts `ecdsa-sha256`.
 *
 * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for a non-RSA key with HIPv1.
 */
export function acceptedSignatureSchemes(key: PublicKeyMaterial, version: 1 | 2): SignatureScheme[] {
  checkVersion(version);
  if (version === 1) {
    if (key.kind !== 'rsa') throw unsupported(`HIPv1 supports RSA signatures only, not ${key.kind}`);
    return ['rsa-pkcs1-sha1'];
  }
  switch (key.kind) {
    case 'rsa':
      return ['rsa-pss-sha256'];
    case 'ecdsa':
      return ['ecdsa-sha384', 'ecdsa-sha256'];
    case 'ed25519':
      return ['ed25519'];
    default:
      throw unsupported(`unknown key kind ${String((key as { kind: unknown }).kind)}`);
  }
}

/**
 * The signature scheme a host signs HIP packets with: HIPv2 RSA → RSASSA-PSS/SHA-256 (suite 1),
 * ECDSA P-256 or P-384 → ECDSA/SHA-384 (suite 2), Ed25519 → pure Ed25519; HIPv1 RSA →
 * PKCS#1 v1.5/SHA-1 (what libhipl uses). See {@link acceptedSignatureSchemes} for verifying.
 *
 * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for a non-RSA key with HIPv1.
 * @example
 * ```ts
 * signatureSchemeFor(identity.publicKey, 2); // 'ecdsa-sha384' for the default identity
 * ```
 */
export function signatureSchemeFor(key: PublicKeyMaterial, version: 1 | 2): SignatureScheme {
  const [preferred] = acceptedSignatureSchemes(key, version);
  // acceptedSignatureSchemes never returns an empty list.
  return preferred as SignatureScheme;
}

/**
 * The HIT suite a key belongs to: RSA → 1 (SHA-256), ECDSA → 2 (SHA-384), Ed25519 → 5
 * (cSHAKE128, experimental).
 */
export function hitSuiteOf(key: PublicKeyMaterial): number {
  switch (key.kind) {
    case 'rsa':
      return HitSuite.RSA_DSA_SHA256;
    case 'ecdsa':
      return HitSuite.ECDSA_SHA384;
    case 'ed25519':
      return HitSuite.EDDSA_CSHAKE128;
    default:
      throw unsupported(`unknown key kind ${String((key as { kind: unknown }).kind)}`);
  }
}
