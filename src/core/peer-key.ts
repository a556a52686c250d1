/**
 * A peer's identity from its HOST_ID: the public key, the HIT it hashes to, the signature
 * schemes to verify with, and the RHASH a responder's HIT implies.
 * @module
 */
import { rhashOfSuite } from '../crypto/hash-info.js';
import { computeHit, computeHitV1, hitSuite, hitsEqual } from '../crypto/hit.js';
import { acceptedSignatureSchemes, decodeHostIdentity } from '../crypto/host-id.js';
import type { PublicKeyMaterial, SignatureScheme } from '../crypto/keys.js';
import type { HostIdParam } from '../wire/index.js';

/** A peer's key as decoded from its HOST_ID, with the HIT it hashes to. */
export interface PeerKey {
  publicKey: PublicKeyMaterial;
  /** The HIT computed from the HOST_ID. */
  hit: Uint8Array;
  schemes: SignatureScheme[];
}

/** Decode a peer's HOST_ID and compute its HIT (v1: ORCHIDv1; v2: the suite of `claimedHit`). */
export function decodePeerKey(hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): PeerKey {
  const publicKey = decodeHostIdentity(hostId.algorithm, hostId.hostIdentity, version);
  const suite = version === 2 ? hitSuite(claimedHit) : undefined;
  const hit = version === 1 ? computeHitV1(hostId.hostIdentity) : computeHit(hostId.hostIdentity, suite ?? 0);
  return { publicKey, hit, schemes: acceptedSignatureSchemes(publicKey, version) };
}

/** Verify a peer's HOST_ID against the HIT it claims; returns the key and the schemes to verify with. */
export function identifyPeer(hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array) {
  const k = decodePeerKey(hostId, version, claimedHit);
  return { publicKey: k.publicKey, hitMatches: hitsEqual(k.hit, claimedHit), schemes: k.schemes };
}

/** RHASH of a responder, from its HIT (v2) or SHA-1 (v1). */
export function responderRhash(version: 1 | 2, responderHit: Uint8Array) {
  return version === 1 ? ('sha1' as const) : rhashOfSuite(hitSuite(responderHit) ?? 0);
}

