/**
 * From the DH secret to every key of an association: KEYMAT (HIPv2 HKDF, HIPv1 SHA-1 chain) and
 * the draw order of RFC 7401 6.5 / RFC 7402 7 (HIPV1-PROFILE 8.4 for v1).
 * @module
 */
import { compareBytes } from '../bytes.js';
import { HipProtocolError } from '../errors.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { keymatV1, keymatV2, KeymatDrawer } from '../crypto/keymat.js';
import type { HashName } from '../crypto/keys.js';
import { espKeymatLengths } from '../esp/suites.js';
import type { EspSaParams } from './events.js';

/** HIP-level keys of one association, already oriented for this host. */
export interface HipKeys {
  /** Key for ENCRYPTED parameters we send (empty for NULL). */
  encOut: Uint8Array;
  /** Key for ENCRYPTED parameters the peer sends. */
  encIn: Uint8Array;
  /** HMAC key for HIP_MAC / HIP_MAC_2 on packets we send. */
  macOut: Uint8Array;
  /** HMAC key for packets the peer sends. */
  macIn: Uint8Array;
  /** Hash of the HMACs (RHASH of the responder's HIT suite; SHA-1 in v1). */
  macHash: HashName;
  /**
   * Draw a fresh ESP key set for a rekey (RFC 7402 6.9): the four ESP keys starting at KEYMAT
   * byte `index`, oriented for this host. With `kij` (a new DH secret) the KEYMAT is derived
   * again from it, with the BEX's #I and #J, and `index` should be 0.
   */
  espKeysAt(index: number, kij?: Uint8Array): Pick<EspSaParams, 'outbound' | 'inbound'>;
  /** The first KEYMAT byte no key has been drawn from yet. */
  keymatNext: number;
}

/** Inputs of {@link deriveSessionKeys}. */
export interface SessionKeyInputs {
  version: 1 | 2;
  /** RHASH (v2); ignored for v1, which always uses SHA-1. */
  rhash: HashName;
  kij: Uint8Array;
  puzzleI: Uint8Array;
  puzzleJ: Uint8Array;
  localHit: Uint8Array;
  peerHit: Uint8Array;
  /** Length of the HIP encryption key: from HIP_CIPHER (v2) or HIP_TRANSFORM (v1). */
  hipEncKeyLength: number;
  /** ESP transform suite. */
  espSuite: number;
}

/** Everything {@link deriveSessionKeys} returns. */
export interface SessionKeys {
  hip: HipKeys;
  /** ESP keys per direction, plus the KEYMAT index; SPIs are filled in by the engine. */
  esp: Omit<EspSaParams, 'localSpi' | 'peerSpi'>;
}

const HASH_LENGTH: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48 };

/**
 * Length of the HIP encryption key (ENCRYPTED parameter): from HIP_CIPHER in v2, from
 * HIP_TRANSFORM in v1.
 */
export function hipEncKeyLength(version: 1 | 2, id: number): number {
  return version === 1 ? hipTransformV1KeyLength(id) : hipCipherKeyLength(id);
}

/** HIP encryption key length for a HIPv2 HIP_CIPHER ID. */
function hipCipherKeyLength(cipher: number): number {
  switch (cipher) {
    case 1:
      return 0;
    case 2:
      return 16;
    case 4:
      return 32;
    default:
      throw new HipProtocolError('ERR_HIP_UNSUPPORTED_CIPHER', `HIP cipher ${cipher} is not supported`);
  }
}

/** HIP encryption key length for a HIPv1 HIP_TRANSFORM suite (HIPV1-PROFILE 3.1). */
function hipTransformV1KeyLength(suite: number): number {
  switch (suite) {
    case 1:
      return 16;
    case 2:
      return 24;
    case 5:
      return 0;
    default:
      throw new HipProtocolError('ERR_HIP_UNSUPPORTED_CIPHER', `HIPv1 transform ${suite} is not supported`);
  }
}

/**
 * Derive KEYMAT and draw the HIP and ESP keys, oriented for the local host (outbound / inbound).
 * The host with the greater HIT is HOST_g; "gl" keys protect what HOST_g sends.
 */
export function deriveSessionKeys(provider: CryptoProvider, inp: SessionKeyInputs): SessionKeys {
  const macHash: HashName = inp.version === 1 ? 'sha1' : inp.rhash;
  const macLen = HASH_LENGTH[macHash];
  const esp = espKeymatLengths(inp.espSuite);
  const total = 2 * (inp.hipEncKeyLength + macLen) + 2 * (esp.enc + esp.auth);
  const keymat =
    inp.version === 1
      ? keymatV1(provider, inp.kij, inp.localHit, inp.peerHit, inp.puzzleI, inp.puzzleJ, total)
      : keymatV2(provider, inp.rhash, inp.kij, inp.puzzleI, inp.puzzleJ, inp.localHit, inp.peerHit, total);
  const draw = new KeymatDrawer(keymat);
  const glEnc = draw.draw(inp.hipEncKeyLength);
  const glMac = draw.draw(macLen);
  const lgEnc = draw.draw(inp.hipEncKeyLength);
  const lgMac = draw.draw(macLen);
  const keymatIndex = draw.offset;
  const localIsGreater = compareBytes(inp.localHit, inp.peerHit) > 0;
  const espFrom = (d: KeymatDrawer): Pick<EspSaParams, 'outbound' | 'inbound'> => {
    const glEspEnc = d.draw(esp.enc);
    const glEspAuth = d.draw(esp.auth);
    const lgEspEnc = d.draw(esp.enc);
    const lgEspAuth = d.draw(esp.auth);
    return {
      outbound: localIsGreater ? { enc: glEspEnc, auth: glEspAuth } : { enc: lgEspEnc, auth: lgEspAuth },
      inbound: localIsGreater ? { enc: lgEspEnc, auth: lgEspAuth } : { enc: glEspEnc, auth: glEspAuth },
    };
  };
  const espKeys = espFrom(draw);
  const espSetLength = 2 * (esp.enc + esp.auth);
  // The rekey closure lives as long as the association: it keeps copies of its few inputs, not
  // views into the I2 or R2 they were parsed from (which would keep whole packets alive).
  const { version, rhash } = inp;
  const [kij0, puzzleI, puzzleJ, localHit, peerHit] = [inp.kij, inp.puzzleI, inp.puzzleJ, inp.localHit, inp.peerHit].map((b) => b.slice());
  const espKeysAt = (index: number, kij: Uint8Array = kij0!): Pick<EspSaParams, 'outbound' | 'inbound'> => {
    // KEYMAT is prefix-stable (both the v1 SHA-1 chain and HKDF-Expand), so deriving it longer
    // and skipping to `index` yields exactly the bytes the peer draws.
    const length = index + espSetLength;
    const more =
      version === 1
        ? keymatV1(provider, kij, localHit!, peerHit!, puzzleI!, puzzleJ!, length)
        : keymatV2(provider, rhash, kij, puzzleI!, puzzleJ!, localHit!, peerHit!, length);
    return espFrom(new KeymatDrawer(more, index));
  };
  const keymatNext = draw.offset;
  return {
    hip: localIsGreater
      ? { encOut: glEnc, macOut: glMac, encIn: lgEnc, macIn: lgMac, macHash, espKeysAt, keymatNext }
      : { encOut: lgEnc, macOut: lgMac, encIn: glEnc, macIn: glMac, macHash, espKeysAt, keymatNext },
    esp: { suite: inp.espSuite, keymatIndex, ...espKeys },
  };
}
