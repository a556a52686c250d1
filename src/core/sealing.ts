/**
 * Building and checking the integrity parameters of a packet: HIP_MAC / HIP_MAC_2 and
 * HIP_SIGNATURE / HIP_SIGNATURE_2, with the "cut at type T" recipe of the wire layer.
 * @module
 */
import { bytesEqual } from '../bytes.js';
import type { CryptoProvider, SigningKey, VerifyingKey } from '../crypto/provider.js';
import type { HashName, SignatureScheme } from '../crypto/keys.js';
import { authenticatedBytes, emitPacket, ParamType, type HipPacket, type HipParam, type SignatureParam } from '../wire/index.js';
import type { VerifiedSignatures } from './verified-signatures.js';

/** How to MAC a packet. */
export interface MacSpec {
  type: typeof ParamType.HIP_MAC | typeof ParamType.HIP_MAC_2;
  hash: HashName;
  key: Uint8Array;
  /** HIP_MAC_2 only: the responder's HOST_ID TLV exactly as in its R1. */
  responderHostIdTlv?: Uint8Array;
}

/** How to sign a packet. */
export interface SignSpec {
  type: typeof ParamType.HIP_SIGNATURE | typeof ParamType.HIP_SIGNATURE_2;
  key: SigningKey;
  scheme: SignatureScheme;
  /** The signer's HI algorithm, written in the signature parameter. */
  algorithm: number;
}

/**
 * Emit `pkt` (whose params must all sort before the MAC) with an optional MAC, an optional
 * signature, then `trailing` parameters (unsigned echoes), and return the final bytes.
 */
export function sealPacket(
  provider: CryptoProvider,
  pkt: HipPacket,
  mac: MacSpec | undefined,
  sig: SignSpec | undefined,
  trailing: HipParam[] = [],
): Uint8Array {
  const params = [...pkt.params];
  let bytes = emitPacket({ ...pkt, params });
  if (mac) {
    const input = authenticatedBytes(bytes, mac.type, mac.responderHostIdTlv ? { responderHostIdTlv: mac.responderHostIdTlv } : undefined);
    params.push({ type: mac.type, mac: provider.hmac(mac.hash, mac.key, input) });
    bytes = emitPacket({ ...pkt, params });
  }
  if (sig) {
    const input = authenticatedBytes(bytes, sig.type);
    params.push({ type: sig.type, algorithm: sig.algorithm, signature: provider.sign(sig.key, sig.scheme, input) });
    bytes = emitPacket({ ...pkt, params });
  }
  if (trailing.length > 0) bytes = emitPacket({ ...pkt, params: [...params, ...trailing] });
  return bytes;
}

/** Check a received packet's HIP_MAC or HIP_MAC_2 against the expected key. */
export function checkMac(
  provider: CryptoProvider,
  raw: Uint8Array,
  received: Uint8Array,
  spec: Omit<MacSpec, 'type'> & { type: MacSpec['type'] },
): boolean {
  const input = authenticatedBytes(raw, spec.type, spec.responderHostIdTlv ? { responderHostIdTlv: spec.responderHostIdTlv } : undefined);
  return bytesEqual(provider.hmac(spec.hash, spec.key, input), received);
}

/** Check a received packet's signature with any of the accepted schemes. */
export function checkSignature(
  provider: CryptoProvider,
  raw: Uint8Array,
  type: SignSpec['type'],
  key: VerifyingKey,
  schemes: readonly SignatureScheme[],
  signature: Uint8Array,
): boolean {
  return verifiesInput(provider, authenticatedBytes(raw, type), key, schemes, signature);
}

function verifiesInput(provider: CryptoProvider, input: Uint8Array, key: VerifyingKey, schemes: readonly SignatureScheme[], signature: Uint8Array): boolean {
  return schemes.some((s) => provider.verify(key, s, input, signature));
}

/** Who is expected to have signed a packet: the key, its schemes and its HI algorithm. */
export interface Signer {
  verifyingKey: VerifyingKey;
  schemes: readonly SignatureScheme[];
  /** The HI algorithm of the signer's HOST_ID; the signature's Algorithm field must equal it. */
  hiAlgorithm: number;
}

/**
 * Check a received HIP_SIGNATURE or HIP_SIGNATURE_2: its Algorithm field must be the signer's
 * HI algorithm (RFC 7401 §5.2.14) and the signature must verify. With `seen`, a signature that
 * verified before over the same bytes under the same key is not verified again (R1s: see
 * verified-signatures.ts).
 */
export function verifySigned(provider: CryptoProvider, raw: Uint8Array, sig: SignatureParam, signer: Signer, seen?: VerifiedSignatures): boolean {
  if (sig.algorithm !== signer.hiAlgorithm) return false;
  const input = authenticatedBytes(raw, sig.type);
  const id = seen?.id(provider, input, sig.signature, signer.schemes);
  if (id !== undefined && seen!.has(signer.verifyingKey, id)) return true;
  if (!verifiesInput(provider, input, signer.verifyingKey, signer.schemes, sig.signature)) return false;
  if (id !== undefined) seen!.add(signer.verifyingKey, id);
  return true;
}
