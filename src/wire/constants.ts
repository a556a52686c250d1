/**
 * Protocol numbers of HIP (RFC 7401 and companions, plus the HIPv1 values libhipl uses).
 *
 * Every table is a frozen `as const` object so callers get literal types, and every table has a
 * reverse lookup built once at load time so naming a number costs one property read.
 * @module
 */

/** IP protocol number of HIP (raw IP carrier, and the IPv4/IPv6 pseudo-header). */
export const HIP_PROTOCOL = 139;

/** The only Next Header value HIP sends today (IPPROTO_NONE). */
export const NEXT_HEADER_NONE = 59;

/** UDP port of RFC 5770 HIP-over-UDP responders and relays. */
export const HIP_UDP_PORT = 10500;

/** Size of the fixed HIP header (next header .. receiver's HIT). */
export const HIP_HEADER_LENGTH = 40;

/**
 * Largest HIP packet this library parses or emits. The Header Length byte alone would allow
 * 2048 bytes ((255 + 1) * 8), and libhipl enforces the same ceiling.
 */
export const HIP_MAX_PACKET = 2048;

/** The Controls bit that marks an anonymous Host Identity (allowed in R1 and I2 only). */
export const CONTROL_ANONYMOUS = 0x0001;

/** Build a number -> name table from a name -> number table. */
function reverse(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) if (!m.has(v)) m.set(v, k);
  return m;
}

/** HIP packet types (the low 7 bits of header byte 2). */
export const PacketType = Object.freeze({
  I1: 1,
  R1: 2,
  I2: 3,
  R2: 4,
  UPDATE: 16,
  NOTIFY: 17,
  CLOSE: 18,
  CLOSE_ACK: 19,
} as const);
/** One of the {@link PacketType} values. */
export type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType];

const packetTypeNames = reverse(PacketType);

/**
 * Name of a packet type, or `UNKNOWN(n)` for numbers this library does not know.
 *
 * @example
 * ```ts
 * packetTypeName(2) // 'R1'
 * ```
 */
export function packetTypeName(t: number): string {
  return packetTypeNames.get(t) ?? `UNKNOWN(${t})`;
}

/** True if `t` is one of the packet types this library handles. */
export function isKnownPacketType(t: number): t is PacketTypeValue {
  return packetTypeNames.has(t);
}

/**
 * HIP parameter (TLV) types. The lowest bit is the critical bit. Where HIPv1 and HIPv2 differ
 * (R1_COUNTER 128 vs 129, HIP_TRANSFORM 577 vs HIP_CIPHER 579) both are listed.
 */
export const ParamType = Object.freeze({
  ESP_INFO: 65,
  R1_COUNTER_V1: 128,
  R1_COUNTER: 129,
  LOCATOR_SET: 193,
  PUZZLE: 257,
  SOLUTION: 321,
  SEQ: 385,
  ACK: 449,
  DH_GROUP_LIST: 511,
  DIFFIE_HELLMAN: 513,
  HIP_TRANSFORM: 577,
  HIP_CIPHER: 579,
  NAT_TRAVERSAL_MODE: 608,
  TRANSACTION_PACING: 610,
  ENCRYPTED: 641,
  HOST_ID: 705,
  HIT_SUITE_LIST: 715,
  CERT: 768,
  NOTIFICATION: 832,
  ECHO_REQUEST_SIGNED: 897,
  REG_INFO: 930,
  REG_REQUEST: 932,
  REG_RESPONSE: 934,
  REG_FAILED: 936,
  REG_FROM: 950,
  ECHO_RESPONSE_SIGNED: 961,
  TRANSPORT_FORMAT_LIST: 2049,
  ESP_TRANSFORM: 4095,
  RELAYED_ADDRESS: 4650,
  MAPPED_ADDRESS: 4660,
  PEER_PERMISSION: 4680,
  CANDIDATE_PRIORITY: 4700,
  NOMINATE: 4710,
  HIP_MAC: 61505,
  HIP_MAC_2: 61569,
  HIP_SIGNATURE_2: 61633,
  HIP_SIGNATURE: 61697,
  ECHO_RESPONSE_UNSIGNED: 63425,
  ECHO_REQUEST_UNSIGNED: 63661,
  RELAY_FROM: 63998,
  RELAY_TO: 64002,
  FROM: 65498,
  RVS_HMAC: 65500,
  VIA_RVS: 65502,
  RELAY_HMAC: 65520,
} as const);
/** One of the {@link ParamType} values. */
export type ParamTypeValue = (typeof ParamType)[keyof typeof ParamType];

const paramTypeNames = reverse(ParamType);

/**
 * Name of a parameter type, or `UNKNOWN(n)`.
 *
 * @example
 * ```ts
 * paramTypeName(705) // 'HOST_ID'
 * ```
 */
export function paramTypeName(t: number): string {
  return paramTypeNames.get(t) ?? `UNKNOWN(${t})`;
}

/** True if `t` is a parameter type listed in {@link ParamType}. */
export function isKnownParamType(t: number): t is ParamTypeValue {
  return paramTypeNames.has(t);
}

/** NOTIFICATION message types (RFC 7401, 7402, 8046, 8002, 8003, 5770, 9028). */
export const NotifyType = Object.freeze({
  UNSUPPORTED_CRITICAL_PARAMETER_TYPE: 1,
  INVALID_SYNTAX: 7,
  NO_DH_PROPOSAL_CHOSEN: 14,
  INVALID_DH_CHOSEN: 15,
  NO_HIP_PROPOSAL_CHOSEN: 16,
  INVALID_HIP_CIPHER_CHOSEN: 17,
  NO_ESP_PROPOSAL_CHOSEN: 18,
  INVALID_ESP_TRANSFORM_CHOSEN: 19,
  UNSUPPORTED_HIT_SUITE: 20,
  AUTHENTICATION_FAILED: 24,
  CHECKSUM_FAILED: 26,
  HIP_MAC_FAILED: 28,
  ENCRYPTION_FAILED: 32,
  INVALID_HIT: 40,
  BLOCKED_BY_POLICY: 42,
  RESPONDER_BUSY_PLEASE_RETRY: 44,
  LOCATOR_TYPE_UNSUPPORTED: 46,
  CREDENTIALS_REQUIRED: 48,
  INVALID_CERTIFICATE: 50,
  REG_REQUIRED: 51,
  NO_VALID_NAT_TRAVERSAL_MODE_PARAMETER: 60,
  CONNECTIVITY_CHECKS_FAILED: 61,
  MESSAGE_NOT_RELAYED: 62,
  SERVER_REFLEXIVE_CANDIDATE_ALLOCATION_FAILED: 63,
  RVS_HMAC_PROHIBITED_WITH_RELAY: 64,
  I2_ACKNOWLEDGEMENT: 16384,
  NAT_KEEPALIVE: 16385,
} as const);

const notifyTypeNames = reverse(NotifyType);

/** Name of a notify message type, or `UNKNOWN(n)`. */
export function notifyTypeName(t: number): string {
  return notifyTypeNames.get(t) ?? `UNKNOWN(${t})`;
}

/** Diffie-Hellman group IDs (DIFFIE_HELLMAN, DH_GROUP_LIST). 1 and 2 are HIPv1 only. */
export const DhGroup = Object.freeze({
  MODP_384_V1: 1,
  OAKLEY_1: 2,
  MODP_1536: 3,
  MODP_3072: 4,
  NIST_P256: 7,
  NIST_P384: 8,
  NIST_P521: 9,
  SECP160R1: 10,
  MODP_2048: 11,
} as const);

/**
 * HIT suite IDs (the 4-bit OGA value inside a HIT). On the wire of HIT_SUITE_LIST each ID sits
 * in the high nibble of a byte (suite 1 is sent as 0x10).
 */
export const HitSuite = Object.freeze({
  RSA_DSA_SHA256: 1,
  ECDSA_SHA384: 2,
  ECDSA_LOW_SHA1: 3,
  EDDSA_CSHAKE128: 5,
} as const);

/** Host Identity algorithm IDs (HOST_ID algorithm, signature algorithm). */
export const HiAlgorithm = Object.freeze({
  DSA: 3,
  RSA: 5,
  ECDSA: 7,
  ECDSA_LOW: 9,
  EDDSA: 13,
} as const);

/** ECDSA curve labels inside an ECDSA Host Identity. */
export const EcdsaCurveLabel = Object.freeze({ P256: 1, P384: 2 } as const);

/** EdDSA curve labels inside an EdDSA Host Identity (RFC 9374). */
export const EddsaCurveLabel = Object.freeze({
  ED25519: 1,
  ED25519PH: 2,
  ED448: 3,
  ED448PH: 4,
} as const);

/** HIP_CIPHER IDs (HIPv2 encryption of the ENCRYPTED parameter). */
export const HipCipherId = Object.freeze({ NULL: 1, AES_128_CBC: 2, AES_256_CBC: 4 } as const);

/** HIP_TRANSFORM suite IDs (HIPv1, as libhipl supports them). */
export const HipTransformV1 = Object.freeze({ AES_SHA1: 1, TDES_SHA1: 2, NULL_SHA1: 5 } as const);

/** ESP_TRANSFORM suite IDs (RFC 7402). */
export const EspSuite = Object.freeze({
  AES128_CBC_SHA1: 1,
  NULL_SHA256: 7,
  AES128_CBC_SHA256: 8,
  AES256_CBC_SHA256: 9,
  AES_CCM_8: 10,
  AES_CCM_16: 11,
  AES_GCM_8: 12,
  AES_GCM_16: 13,
  AES_CMAC_96: 14,
  AES_GMAC: 15,
} as const);

/** NAT_TRAVERSAL_MODE IDs (RFC 5770, RFC 9028). */
export const NatMode = Object.freeze({
  UDP_ENCAPSULATION: 1,
  ICE_STUN_UDP: 2,
  ICE_HIP_UDP: 3,
} as const);

/** Registration types (RFC 8003 REG_* parameters). */
export const RegType = Object.freeze({
  RENDEZVOUS: 1,
  RELAY_UDP_HIP: 2,
  RELAY_UDP_ESP: 3,
  CANDIDATE_DISCOVERY: 4,
} as const);

/** TRANSPORT_FORMAT_LIST entries: the parameter type of each transport format. */
export const TransportFormat = Object.freeze({ ESP: 4095 } as const);

/** HOST_ID Domain Identifier types. */
export const DiType = Object.freeze({ NONE: 0, FQDN: 1, NAI: 2 } as const);

/** LOCATOR_SET locator types (RFC 8046, RFC 5770). */
export const LocatorType = Object.freeze({
  /** IPv6 address, or IPv4-mapped. */
  ADDRESS: 0,
  /** ESP SPI + IPv6/IPv4-mapped address. */
  ESP_SPI_ADDRESS: 1,
  /** RFC 5770 transport address. */
  TRANSPORT: 2,
} as const);

/** LOCATOR_SET traffic types. */
export const LocatorTrafficType = Object.freeze({ BOTH: 0, SIGNALLING: 1, DATA: 2 } as const);

/** HIP version numbers the codec speaks. */
export const HipVersionNumber = Object.freeze({ V1: 1, V2: 2 } as const);
