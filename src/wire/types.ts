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
  type: 65;
  /** 16-bit reserved field (send 0). */
  reserved: number;
  /** Byte offset into KEYMAT where the ESP keys start. */
  keymatIndex: number;
  oldSpi: number;
  newSpi: number;
}

/** R1_COUNTER (129 in v2, 128 in v1): the R1 generation counter. */
export interface R1CounterParam extends ParamBase {
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
}

/** LOCATOR_SET (193): the sender's locators (RFC 8046, RFC 5770). */
export interface LocatorSetParam extends ParamBase {
  type: 193;
  locators: Locator[];
}

/**
 * PUZZLE (257). `i` is RHASH_len/8 bytes in v2 (20, 32 or 48; taken from the TLV length) and
 * 8 bytes in v1.
 */
export interface PuzzleParam extends ParamBase {
  type: 257;
  /** Difficulty #K in bits. */
  k: number;
  /** Lifetime exponent: 2^(lifetime − 32) seconds. */
  lifetime: number;
  /** 16-bit opaque value the Initiator copies into its SOLUTION. */
  opaque: number;
  i: Uint8Array;
}

/** SOLUTION (321). `i` and `j` have equal length (see {@link PuzzleParam}). */
export interface SolutionParam extends ParamBase {
  type: 321;
  k: number;
  /** 8-bit reserved field. */
  reserved: number;
  opaque: number;
  i: Uint8Array;
  j: Uint8Array;
}

/** SEQ (385): the UPDATE ID. */
export interface SeqParam extends ParamBase {
  type: 385;
  updateId: number;
}

/** ACK (449): the peer UPDATE IDs being acknowledged. */
export interface AckParam extends ParamBase {
  type: 449;
  updateIds: number[];
}

/** DH_GROUP_LIST (511): DH group IDs in preference order, one byte each. */
export interface DhGroupListParam extends ParamBase {
  type: 511;
  groups: number[];
}

/** One public value inside DIFFIE_HELLMAN. */
export interface DhValue {
  /** DH group ID ({@link DhGroup}). */
  group: number;
  publicValue: Uint8Array;
}

/** DIFFIE_HELLMAN (513): exactly one value in v2; one or two in v1. */
export interface DiffieHellmanParam extends ParamBase {
  type: 513;
  values: DhValue[];
}

/** HIP_TRANSFORM (577, HIPv1): HIP suite IDs ({@link HipTransformV1}). */
export interface HipTransformParam extends ParamBase {
  type: 577;
  suites: number[];
}

/** HIP_CIPHER (579, HIPv2): cipher IDs ({@link HipCipherId}). */
export interface HipCipherParam extends ParamBase {
  type: 579;
  ciphers: number[];
}

/** NAT_TRAVERSAL_MODE (608): mode IDs ({@link NatMode}). */
export interface NatTraversalModeParam extends ParamBase {
  type: 608;
  /** 16-bit reserved field. */
  reserved: number;
  modes: number[];
}

/** TRANSACTION_PACING (610): minimum Ta in milliseconds. */
export interface TransactionPacingParam extends ParamBase {
  type: 610;
  minTa: number;
}

/**
 * ENCRYPTED (641). `data` is IV + ciphertext: the IV length depends on the negotiated cipher,
 * so the crypto layer splits it.
 */
export interface EncryptedParam extends ParamBase {
  type: 641;
  /** 32-bit reserved field. */
  reserved: number;
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
  type: 705;
  algorithm: number;
  hostIdentity: Uint8Array;
  /** Domain Identifier type ({@link DiType}), 4 bits. */
  diType: number;
  /** Domain Identifier bytes (at most 4095). */
  di: Uint8Array;
  /** v1 only: the RDATA header fields other than the algorithm. */
  v1Rdata?: { flags: number; protocol: number };
}

/** HIT_SUITE_LIST (715): the raw suite bytes (suite ID in the high nibble: 0x10, 0x20, ...). */
export interface HitSuiteListParam extends ParamBase {
  type: 715;
  suites: number[];
}

/** NOTIFICATION (832). */
export interface NotificationParam extends ParamBase {
  type: 832;
  /** 16-bit reserved field. */
  reserved: number;
  /** Notify message type ({@link NotifyType}). */
  notifyType: number;
  data: Uint8Array;
}

/** ECHO_REQUEST/RESPONSE, SIGNED (897/961) and UNSIGNED (63661/63425): opaque bytes. */
export interface EchoParam extends ParamBase {
  type: 897 | 961 | 63661 | 63425;
  opaque: Uint8Array;
}

/** REG_INFO (930): the registrar's offer (RFC 8003). */
export interface RegInfoParam extends ParamBase {
  type: 930;
  minLifetime: number;
  maxLifetime: number;
  regTypes: number[];
}

/** REG_REQUEST (932) and REG_RESPONSE (934). */
export interface RegRequestParam extends ParamBase {
  type: 932 | 934;
  /** Encoded lifetime: seconds = 2^((value − 64) / 8); 0 cancels. */
  lifetime: number;
  regTypes: number[];
}

/** REG_FAILED (936). */
export interface RegFailedParam extends ParamBase {
  type: 936;
  failureType: number;
  regTypes: number[];
}

/**
 * REG_FROM (950), RELAYED_ADDRESS (4650), MAPPED_ADDRESS (4660), RELAY_FROM (63998),
 * RELAY_TO (64002): a transport address (RFC 5770 §5.6).
 */
export interface AddressParam extends ParamBase {
  type: 950 | 4650 | 4660 | 63998 | 64002;
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
  type: 2049;
  formats: number[];
}

/** ESP_TRANSFORM (4095): ESP suite IDs ({@link EspSuite}) after a 16-bit reserved field. */
export interface EspTransformParam extends ParamBase {
  type: 4095;
  reserved: number;
  suites: number[];
}

/** CANDIDATE_PRIORITY (4700): a 32-bit ICE priority (RFC 9028). */
export interface CandidatePriorityParam extends ParamBase {
  type: 4700;
  priority: number;
}

/** HIP_MAC (61505), HIP_MAC_2 (61569), RVS_HMAC (65500), RELAY_HMAC (65520): raw HMAC output. */
export interface MacParam extends ParamBase {
  type: 61505 | 61569 | 65500 | 65520;
  mac: Uint8Array;
}

/** HIP_SIGNATURE_2 (61633) and HIP_SIGNATURE (61697). The algorithm field is 2 bytes in v2, 1 in v1. */
export interface SignatureParam extends ParamBase {
  type: 61633 | 61697;
  /** Signature algorithm = the signer's HI algorithm ({@link HiAlgorithm}). */
  algorithm: number;
  signature: Uint8Array;
}

/** FROM (65498): the Initiator's address, added by a rendezvous server. */
export interface FromParam extends ParamBase {
  type: 65498;
  /** 16 bytes (IPv6 or IPv4-mapped). */
  address: Uint8Array;
}

/** VIA_RVS (65502): the rendezvous servers an I1 went through. */
export interface ViaRvsParam extends ParamBase {
  type: 65502;
  /** 16 bytes each. */
  addresses: Uint8Array[];
}

/**
 * A parameter kept verbatim: unknown non-critical types and types the codec does not model
 * (CERT, PEER_PERMISSION, NOMINATE, ...).
 */
export interface RawParam extends ParamBase {
  type: number;
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
  65: EspInfoParam;
  128: R1CounterParam;
  129: R1CounterParam;
  193: LocatorSetParam;
  257: PuzzleParam;
  321: SolutionParam;
  385: SeqParam;
  449: AckParam;
  511: DhGroupListParam;
  513: DiffieHellmanParam;
  577: HipTransformParam;
  579: HipCipherParam;
  608: NatTraversalModeParam;
  610: TransactionPacingParam;
  641: EncryptedParam;
  705: HostIdParam;
  715: HitSuiteListParam;
  832: NotificationParam;
  897: EchoParam;
  930: RegInfoParam;
  932: RegRequestParam;
  934: RegRequestParam;
  936: RegFailedParam;
  950: AddressParam;
  961: EchoParam;
  2049: TransportFormatListParam;
  4095: EspTransformParam;
  4650: AddressParam;
  4660: AddressParam;
  4700: CandidatePriorityParam;
  61505: MacParam;
  61569: MacParam;
  61633: SignatureParam;
  61697: SignatureParam;
  63425: EchoParam;
  63661: EchoParam;
  63998: AddressParam;
  64002: AddressParam;
  65498: FromParam;
  65500: MacParam;
  65502: ViaRvsParam;
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
