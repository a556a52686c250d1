/**
 * Typed values of HIP packets and parameters: what {@link parsePacket} returns and what
 * {@link emitPacket} takes.
 *
 * Every parameter interface has a literal `type` field. Parameters the codec does not model
 * (CERT, PEER_PERMISSION, NOMINATE, unknown non-critical types) come back as {@link RawParam}
 * with their contents verbatim, so a parsed packet always re-emits byte for byte.
 *
 * Byte arrays in parsed values are views into the input buffer (no copies): copy them if the
 * input buffer is going to be reused.
 * @module
 */

/** HIP protocol version carried in header byte 3: 1 (RFC 5201, libhipl) or 2 (RFC 7401). */
export type HipVersion = 1 | 2;

/**
 * Fields every parameter may carry besides its own.
 *
 * `padding` exists only so a received packet re-emits exactly: the parser sets it when the
 * TLV's padding bytes were not all zero (receivers must not check padding, but a byte-exact
 * copy must keep it). The emitter uses it when its length matches the padding needed, and
 * writes zeros otherwise. Leave it unset when building packets.
 */
export interface ParamBase {
  /** Non-zero padding bytes seen on receive; see {@link ParamBase}. */
  padding?: Uint8Array;
}

/** ESP_INFO (65): SPIs and KEYMAT index of an ESP SA (RFC 7402). */
export interface EspInfoParam extends ParamBase {
  /** Parameter type 65 (ESP_INFO). */
  type: 65;
  /** 16-bit reserved field (send 0). */
  reserved: number;
  /** Byte offset into KEYMAT where the ESP keys start. */
  keymatIndex: number;
  /**
   * The SPI being replaced: 0 in the base exchange and for a new SA; equal to `newSpi` in a
   * gratuitous announcement.
   */
  oldSpi: number;
  /** The SPI the sender wants to receive on from now; 0 deprecates the SA named by `oldSpi`. */
  newSpi: number;
}

/** R1_COUNTER (129 in v2, 128 in v1): the R1 generation counter. */
export interface R1CounterParam extends ParamBase {
  /** Parameter type: 129 (R1_COUNTER, HIPv2) or 128 (R1_Counter, HIPv1). */
  type: 128 | 129;
  /** 32-bit reserved field; the I2 must echo it unchanged. */
  reserved: number;
  /** 64-bit generation counter. */
  counter: bigint;
}

/**
 * One locator record of a LOCATOR_SET. `value` is the raw locator (LocatorLength·4 bytes);
 * decode it with {@link decodeLocatorValue}.
 */
export interface Locator {
  /** 0 both, 1 signalling, 2 data ({@link LocatorTrafficType}). */
  trafficType: number;
  /** 0 address, 1 SPI + address, 2 transport address ({@link LocatorType}). */
  locatorType: number;
  /** The P bit. */
  preferred: boolean;
  /** The 7 reserved bits next to P. */
  reserved: number;
  /** Locator lifetime in seconds. */
  lifetime: number;
  /** The raw locator; its length must be a multiple of 4 (at most 1020). */
  value: Uint8Array;
  /**
   * The Locator Length field as written, when it is not `value.length / 4`. Only HIPL's form of
   * locator type 1 has one: hipd writes 4 (the address alone) before a 20-byte SPI + address.
   * Kept so such a record re-emits byte for byte; leave it out when building a locator.
   */
  lengthField?: number;
}

/** LOCATOR_SET (193): the sender's locators (RFC 8046, RFC 5770). */
export interface LocatorSetParam extends ParamBase {
  /** Parameter type 193 (LOCATOR_SET). */
  type: 193;
  /**
   * Every locator the sender currently wants to use; the set replaces any earlier one, and an empty
   * set deprecates them all.
   */
  locators: Locator[];
}

/**
 * PUZZLE (257). `i` is RHASH_len/8 bytes in v2 (20, 32 or 48; taken from the TLV length) and
 * 8 bytes in v1.
 */
export interface PuzzleParam extends ParamBase {
  /** Parameter type 257 (PUZZLE). */
  type: 257;
  /** Difficulty #K in bits. */
  k: number;
  /** Lifetime exponent: 2^(lifetime − 32) seconds. */
  lifetime: number;
  /** 16-bit opaque value the Initiator copies into its SOLUTION. */
  opaque: number;
  /** The random #I the Initiator must find a #J for. */
  i: Uint8Array;
}

/** SOLUTION (321). `i` and `j` have equal length (see {@link PuzzleParam}). */
export interface SolutionParam extends ParamBase {
  /** Parameter type 321 (SOLUTION). */
  type: 321;
  /** Difficulty #K, copied from the PUZZLE. */
  k: number;
  /** 8-bit reserved field. */
  reserved: number;
  /** Opaque value, copied from the PUZZLE. */
  opaque: number;
  /** #I, copied from the PUZZLE. */
  i: Uint8Array;
  /**
   * #J: the Initiator's solution, such that the low #K bits of RHASH(#I | HIT-I | HIT-R | #J) are
   * zero.
   */
  j: Uint8Array;
}

/** SEQ (385): the UPDATE ID. */
export interface SeqParam extends ParamBase {
  /** Parameter type 385 (SEQ). */
  type: 385;
  /**
   * 32-bit Update ID; 0 for the first UPDATE after ESTABLISHED, compared in wrapping sequence
   * space.
   */
  updateId: number;
}

/** ACK (449): the peer UPDATE IDs being acknowledged. */
export interface AckParam extends ParamBase {
  /** Parameter type 449 (ACK). */
  type: 449;
  /** The acknowledged peer Update IDs; ACKs are not cumulative, so each SEQ needs its own entry. */
  updateIds: number[];
}

/** DH_GROUP_LIST (511): DH group IDs in preference order, one byte each. */
export interface DhGroupListParam extends ParamBase {
  /** Parameter type 511 (DH_GROUP_LIST). */
  type: 511;
  /** Group IDs ({@link DhGroup}), most preferred first. */
  groups: number[];
}

/** One public value inside DIFFIE_HELLMAN. */
export interface DhValue {
  /** DH group ID ({@link DhGroup}). */
  group: number;
  /**
   * The public value: X ‖ Y without a 0x04 prefix for ECDH groups, the big-endian integer for MODP
   * groups.
   */
  publicValue: Uint8Array;
}

/** DIFFIE_HELLMAN (513): exactly one value in v2; one or two in v1. */
export interface DiffieHellmanParam extends ParamBase {
  /** Parameter type 513 (DIFFIE_HELLMAN). */
  type: 513;
  /** The public values: exactly one in v2, one or two in v1 (both parser and emitter enforce it). */
  values: DhValue[];
}

/** HIP_TRANSFORM (577, HIPv1): HIP suite IDs ({@link HipTransformV1}). */
export interface HipTransformParam extends ParamBase {
  /** Parameter type 577 (HIP_TRANSFORM). */
  type: 577;
  /** Suite IDs, most preferred first: a list in R1, one in I2. */
  suites: number[];
}

/** HIP_CIPHER (579, HIPv2): cipher IDs ({@link HipCipherId}). */
export interface HipCipherParam extends ParamBase {
  /** Parameter type 579 (HIP_CIPHER). */
  type: 579;
  /** Cipher IDs, most preferred first: a list in R1, exactly one in I2. */
  ciphers: number[];
}

/** NAT_TRAVERSAL_MODE (608): mode IDs ({@link NatMode}). */
export interface NatTraversalModeParam extends ParamBase {
  /** Parameter type 608 (NAT_TRAVERSAL_MODE). */
  type: 608;
  /** 16-bit reserved field. */
  reserved: number;
  /** Mode IDs, most preferred first: a list in R1, the selected one in I2. */
  modes: number[];
}

/** TRANSACTION_PACING (610): minimum Ta in milliseconds. */
export interface TransactionPacingParam extends ParamBase {
  /** Parameter type 610 (TRANSACTION_PACING). */
  type: 610;
  /** Minimum Ta in milliseconds (32 bits); the larger of the two offered values is used. */
  minTa: number;
}

/**
 * ENCRYPTED (641). `data` is IV + ciphertext: the IV length depends on the negotiated cipher,
 * so the crypto layer splits it.
 */
export interface EncryptedParam extends ParamBase {
  /** Parameter type 641 (ENCRYPTED). */
  type: 641;
  /** 32-bit reserved field. */
  reserved: number;
  /** IV followed by the ciphertext of whole, padded HIP parameters (in practice the HOST_ID). */
  data: Uint8Array;
}

/**
 * HOST_ID (705).
 *
 * v2: `algorithm` is the 2-byte Algorithm field and `hostIdentity` the Host Identity field
 * (exactly what the HIT hashes).
 *
 * v1 (libhipl): the Host Identity starts with a 4-byte RDATA header flags(2) | protocol(1) |
 * algorithm(1). `hostIdentity` is the key field after that header (what the ORCHIDv1 HIT
 * hashes), `algorithm` the RDATA algorithm byte and `v1Rdata` keeps flags and protocol. When
 * emitting v1 without `v1Rdata`, flags 0x0202 and protocol 0xff (what libhipl sends) are used.
 */
export interface HostIdParam extends ParamBase {
  /** Parameter type 705 (HOST_ID). */
  type: 705;
  /**
   * HI algorithm ({@link HiAlgorithm}): the 2-byte Algorithm field in v2, the RDATA algorithm byte
   * in v1.
   */
  algorithm: number;
  /** The public key bytes the HIT is hashed from (v1: without the 4-byte RDATA header). */
  hostIdentity: Uint8Array;
  /** Domain Identifier type ({@link DiType}), 4 bits. */
  diType: number;
  /** Domain Identifier bytes (at most 4095). */
  di: Uint8Array;
  /** v1 only: the RDATA header fields other than the algorithm. */
  v1Rdata?: {
    /** RDATA flags (16 bits); libhipl sends 0x0202. */
    flags: number;
    /** RDATA protocol byte; libhipl sends 0xff. */
    protocol: number;
  };
}

/** HIT_SUITE_LIST (715): the raw suite bytes (suite ID in the high nibble: 0x10, 0x20, ...). */
export interface HitSuiteListParam extends ParamBase {
  /** Parameter type 715 (HIT_SUITE_LIST). */
  type: 715;
  /** Suite bytes, most preferred first, each with the {@link HitSuite} ID in the high nibble. */
  suites: number[];
}

/** NOTIFICATION (832). */
export interface NotificationParam extends ParamBase {
  /** Parameter type 832 (NOTIFICATION). */
  type: 832;
  /** 16-bit reserved field. */
  reserved: number;
  /** Notify message type ({@link NotifyType}). */
  notifyType: number;
  /**
   * Notification data; its meaning depends on `notifyType` (e.g. the 2-byte parameter type for
   * UNSUPPORTED_CRITICAL_PARAMETER_TYPE).
   */
  data: Uint8Array;
}

/** ECHO_REQUEST/RESPONSE, SIGNED (897/961) and UNSIGNED (63661/63425): opaque bytes. */
export interface EchoParam extends ParamBase {
  /**
   * ECHO_REQUEST_SIGNED (897), ECHO_RESPONSE_SIGNED (961), ECHO_REQUEST_UNSIGNED (63661) or
   * ECHO_RESPONSE_UNSIGNED (63425).
   */
  type: 897 | 961 | 63661 | 63425;
  /** The opaque bytes; a response carries the request's bytes unchanged. */
  opaque: Uint8Array;
}

/** REG_INFO (930): the registrar's offer (RFC 8003). */
export interface RegInfoParam extends ParamBase {
  /** Parameter type 930 (REG_INFO). */
  type: 930;
  /**
   * Shortest lifetime the registrar grants, in the encoded form of
   * {@link RegRequestParam.lifetime}.
   */
  minLifetime: number;
  /** Longest lifetime the registrar grants, in the same encoded form. */
  maxLifetime: number;
  /** Registration types offered ({@link RegType}), one byte each. */
  regTypes: number[];
}

/** REG_REQUEST (932) and REG_RESPONSE (934). */
export interface RegRequestParam extends ParamBase {
  /** REG_REQUEST (932) or REG_RESPONSE (934). */
  type: 932 | 934;
  /** Encoded lifetime: seconds = 2^((value − 64) / 8); 0 cancels. */
  lifetime: number;
  /** Registration types ({@link RegType}) requested or granted, one byte each. */
  regTypes: number[];
}

/** REG_FAILED (936). */
export interface RegFailedParam extends ParamBase {
  /** Parameter type 936 (REG_FAILED). */
  type: 936;
  /**
   * Why the registration failed (RFC 8003: 0 credentials required, 1 type unavailable, 2
   * insufficient resources, 3 invalid certificate, ...).
   */
  failureType: number;
  /** The refused registration types ({@link RegType}), one byte each. */
  regTypes: number[];
}

/**
 * REG_FROM (950), RELAYED_ADDRESS (4650), MAPPED_ADDRESS (4660), RELAY_FROM (63998),
 * RELAY_TO (64002): a transport address (RFC 5770 §5.6).
 */
export interface AddressParam extends ParamBase {
  /**
   * REG_FROM (950), RELAYED_ADDRESS (4650), MAPPED_ADDRESS (4660), RELAY_FROM (63998) or RELAY_TO
   * (64002).
   */
  type: 950 | 4650 | 4660 | 63998 | 64002;
  /** Transport port (16 bits). */
  port: number;
  /** 17 = UDP, 0 = plain IP. */
  protocol: number;
  /** 8-bit reserved field. */
  reserved: number;
  /** 16 bytes: IPv6, or IPv4-mapped ::ffff:a.b.c.d. */
  address: Uint8Array;
}

/** TRANSPORT_FORMAT_LIST (2049): transport format parameter types ({@link TransportFormat}). */
export interface TransportFormatListParam extends ParamBase {
  /** Parameter type 2049 (TRANSPORT_FORMAT_LIST). */
  type: 2049;
  /** Transport formats by parameter type, most preferred first: a list in R1, one in I2. */
  formats: number[];
}

/** ESP_TRANSFORM (4095): ESP suite IDs ({@link EspSuite}) after a 16-bit reserved field. */
export interface EspTransformParam extends ParamBase {
  /** Parameter type 4095 (ESP_TRANSFORM). */
  type: 4095;
  /** 16-bit reserved field (send 0); libhipl drops an ESP_TRANSFORM that lacks it. */
  reserved: number;
  /** Suite IDs, most preferred first: a list in R1, exactly one in I2. */
  suites: number[];
}

/** CANDIDATE_PRIORITY (4700): a 32-bit ICE priority (RFC 9028). */
export interface CandidatePriorityParam extends ParamBase {
  /** Parameter type 4700 (CANDIDATE_PRIORITY). */
  type: 4700;
  /** The 32-bit ICE candidate priority. */
  priority: number;
}

/** HIP_MAC (61505), HIP_MAC_2 (61569), RVS_HMAC (65500), RELAY_HMAC (65520): raw HMAC output. */
export interface MacParam extends ParamBase {
  /** HIP_MAC (61505), HIP_MAC_2 (61569), RVS_HMAC (65500) or RELAY_HMAC (65520). */
  type: 61505 | 61569 | 65500 | 65520;
  /** The untruncated HMAC output (20, 32 or 48 bytes, by RHASH). */
  mac: Uint8Array;
}

/** HIP_SIGNATURE_2 (61633) and HIP_SIGNATURE (61697). The algorithm field is 2 bytes in v2, 1 in v1. */
export interface SignatureParam extends ParamBase {
  /** HIP_SIGNATURE_2 (61633, R1 only) or HIP_SIGNATURE (61697). */
  type: 61633 | 61697;
  /** Signature algorithm = the signer's HI algorithm ({@link HiAlgorithm}). */
  algorithm: number;
  /** The signature bytes (RSA: modulus length; ECDSA: r ‖ s). */
  signature: Uint8Array;
}

/** FROM (65498): the Initiator's address, added by a rendezvous server. */
export interface FromParam extends ParamBase {
  /** Parameter type 65498 (FROM). */
  type: 65498;
  /** 16 bytes (IPv6 or IPv4-mapped). */
  address: Uint8Array;
}

/** VIA_RVS (65502): the rendezvous servers an I1 went through. */
export interface ViaRvsParam extends ParamBase {
  /** Parameter type 65502 (VIA_RVS). */
  type: 65502;
  /** 16 bytes each. */
  addresses: Uint8Array[];
}

/**
 * A parameter kept verbatim: unknown non-critical types and types the codec does not model
 * (CERT, PEER_PERMISSION, NOMINATE, ...).
 */
export interface RawParam extends ParamBase {
  /** The parameter type as found on the wire. */
  type: number;
  /** Marks a verbatim parameter, so {@link isRawParam} can tell it from a modelled one. */
  raw: true;
  /** The contents (without Type, Length and padding). */
  contents: Uint8Array;
  /**
   * Set only by a lenient parse ({@link ParseOptions.lenient}): the code of the error that made
   * the parser keep this parameter raw (e.g. `ERR_HIP_PARAM_LENGTH`). Ignored on emit.
   */
  malformed?: string;
}

/** Any parameter. Narrow with `'raw' in p`, or look parameters up with {@link getParam}. */
export type HipParam =
  | EspInfoParam
  | R1CounterParam
  | LocatorSetParam
  | PuzzleParam
  | SolutionParam
  | SeqParam
  | AckParam
  | DhGroupListParam
  | DiffieHellmanParam
  | HipTransformParam
  | HipCipherParam
  | NatTraversalModeParam
  | TransactionPacingParam
  | EncryptedParam
  | HostIdParam
  | HitSuiteListParam
  | NotificationParam
  | EchoParam
  | RegInfoParam
  | RegRequestParam
  | RegFailedParam
  | AddressParam
  | TransportFormatListParam
  | EspTransformParam
  | CandidatePriorityParam
  | MacParam
  | SignatureParam
  | FromParam
  | ViaRvsParam
  | RawParam;

/** Parameters the codec models, by type number. */
export interface ParamMap {
  /** ESP_INFO. */
  65: EspInfoParam;
  /** R1_Counter (HIPv1). */
  128: R1CounterParam;
  /** R1_COUNTER. */
  129: R1CounterParam;
  /** LOCATOR_SET. */
  193: LocatorSetParam;
  /** PUZZLE. */
  257: PuzzleParam;
  /** SOLUTION. */
  321: SolutionParam;
  /** SEQ. */
  385: SeqParam;
  /** ACK. */
  449: AckParam;
  /** DH_GROUP_LIST. */
  511: DhGroupListParam;
  /** DIFFIE_HELLMAN. */
  513: DiffieHellmanParam;
  /** HIP_TRANSFORM (HIPv1). */
  577: HipTransformParam;
  /** HIP_CIPHER. */
  579: HipCipherParam;
  /** NAT_TRAVERSAL_MODE. */
  608: NatTraversalModeParam;
  /** TRANSACTION_PACING. */
  610: TransactionPacingParam;
  /** ENCRYPTED. */
  641: EncryptedParam;
  /** HOST_ID. */
  705: HostIdParam;
  /** HIT_SUITE_LIST. */
  715: HitSuiteListParam;
  /** NOTIFICATION. */
  832: NotificationParam;
  /** ECHO_REQUEST_SIGNED. */
  897: EchoParam;
  /** REG_INFO. */
  930: RegInfoParam;
  /** REG_REQUEST. */
  932: RegRequestParam;
  /** REG_RESPONSE. */
  934: RegRequestParam;
  /** REG_FAILED. */
  936: RegFailedParam;
  /** REG_FROM. */
  950: AddressParam;
  /** ECHO_RESPONSE_SIGNED. */
  961: EchoParam;
  /** TRANSPORT_FORMAT_LIST. */
  2049: TransportFormatListParam;
  /** ESP_TRANSFORM. */
  4095: EspTransformParam;
  /** RELAYED_ADDRESS. */
  4650: AddressParam;
  /** MAPPED_ADDRESS. */
  4660: AddressParam;
  /** CANDIDATE_PRIORITY. */
  4700: CandidatePriorityParam;
  /** HIP_MAC. */
  61505: MacParam;
  /** HIP_MAC_2. */
  61569: MacParam;
  /** HIP_SIGNATURE_2. */
  61633: SignatureParam;
  /** HIP_SIGNATURE. */
  61697: SignatureParam;
  /** ECHO_RESPONSE_UNSIGNED. */
  63425: EchoParam;
  /** ECHO_REQUEST_UNSIGNED. */
  63661: EchoParam;
  /** RELAY_FROM. */
  63998: AddressParam;
  /** RELAY_TO. */
  64002: AddressParam;
  /** FROM. */
  65498: FromParam;
  /** RVS_HMAC. */
  65500: MacParam;
  /** VIA_RVS. */
  65502: ViaRvsParam;
  /** RELAY_HMAC. */
  65520: MacParam;
}

/** A parameter type the codec models (a key of {@link ParamMap}). */
export type ModelledParamType = keyof ParamMap;

/**
 * A HIP packet: the fixed header fields plus its parameters in wire order.
 *
 * @example
 * ```ts
 * const i1: HipPacket = {
 *   version: 2, type: PacketType.I1, controls: 0, checksum: 0,
 *   senderHit, receiverHit,
 *   params: [{ type: ParamType.DH_GROUP_LIST, groups: [DhGroup.NIST_P384, DhGroup.MODP_3072] }],
 * };
 * ```
 */
export interface HipPacket {
  /**
   * HIP version from header byte 3; it also selects the v1 or v2 layout of version-dependent
   * parameters.
   */
  version: HipVersion;
  /** Packet type ({@link PacketType}). */
  type: number;
  /** Controls bits ({@link CONTROL_ANONYMOUS}). */
  controls: number;
  /** Checksum as received. {@link emitPacket} ignores it and writes 0 or the computed value. */
  checksum: number;
  /** 16 bytes. */
  senderHit: Uint8Array;
  /** 16 bytes (all zero for an opportunistic I1). */
  receiverHit: Uint8Array;
  /** Parameters in wire order (ascending type); the emitter writes them in the given order. */
  params: HipParam[];
  /**
   * The 3 reserved bits of header byte 3 (between Version and the fixed 1 bit), kept so a
   * received packet re-emits exactly. Unset means 0.
   */
  headerReserved?: number;
}

/**
 * True if the parameter type is critical (its lowest bit is 1): a receiver that does not know
 * a critical parameter must drop the packet.
 */
export function isCritical(type: number): boolean {
  return (type & 1) === 1;
}

/** True if the parameter was kept verbatim (unknown or unmodelled type). */
export function isRawParam(p: HipParam): p is RawParam {
  return (p as Partial<RawParam>).raw === true;
}

/**
 * The first modelled parameter of the given type, or `undefined`.
 *
 * @example
 * ```ts
 * const puzzle = getParam(r1, ParamType.PUZZLE); // PuzzleParam | undefined
 * ```
 */
export function getParam<T extends keyof ParamMap>(pkt: HipPacket, type: T): ParamMap[T] | undefined {
  for (const p of pkt.params) {
    if (p.type === type && !isRawParam(p)) return p as ParamMap[T];
  }
  return undefined;
}

/** All modelled parameters of the given type, in wire order. */
export function getParams<T extends keyof ParamMap>(pkt: HipPacket, type: T): ParamMap[T][] {
  const out: ParamMap[T][] = [];
  for (const p of pkt.params) {
    if (p.type === type && !isRawParam(p)) out.push(p as ParamMap[T]);
  }
  return out;
}
