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
  /**
   * I1: the Initiator's opening packet; in HIPv2 it carries only DH_GROUP_LIST (RFC 7401 §5.3.1),
   * and libhipl sends a bare header.
   */
  I1: 1,
  /**
   * R1: the Responder's stateless, possibly precomputed answer with the puzzle, DH value and Host
   * Identity, signed with HIP_SIGNATURE_2 (RFC 7401 §5.3.2).
   */
  R1: 2,
  /**
   * I2: the Initiator's puzzle solution, DH value, Host Identity and ESP_INFO, protected by HIP_MAC
   * and HIP_SIGNATURE (RFC 7401 §5.3.3).
   */
  I2: 3,
  /**
   * R2: the Responder's final packet of the base exchange, protected by HIP_MAC_2 and HIP_SIGNATURE
   * (RFC 7401 §5.3.4).
   */
  R2: 4,
  /**
   * UPDATE: rekeying, readdressing and registration on an established association; must carry SEQ,
   * ACK or both (RFC 7401 §5.3.5).
   */
  UPDATE: 16,
  /**
   * NOTIFY: an informational or error report; signed but not MACed, never changes state, and
   * processing it is optional (RFC 7401 §5.3.6).
   */
  NOTIFY: 17,
  /**
   * CLOSE: asks the peer to tear the association down; carries ECHO_REQUEST_SIGNED (RFC 7401
   * §5.3.7).
   */
  CLOSE: 18,
  /** CLOSE_ACK: confirms a CLOSE by echoing its nonce in ECHO_RESPONSE_SIGNED (RFC 7401 §5.3.8). */
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
  /**
   * ESP_INFO: KEYMAT index plus old and new SPI; announces the SPI the sender wants to receive on
   * (RFC 7402 §5.1.1).
   */
  ESP_INFO: 65,
  /** R1_Counter as numbered in HIPv1 (RFC 5201), non-critical; HIPv2 moved it to 129. */
  R1_COUNTER_V1: 128,
  /**
   * R1_COUNTER: 64-bit R1 generation counter; if an R1 carries it, the I2 echoes it byte for byte
   * (RFC 7401 §5.2.3).
   */
  R1_COUNTER: 129,
  /**
   * LOCATOR_SET: the sender's complete list of addresses (called LOCATOR in RFC 5206/5770); each
   * new set replaces the previous one (RFC 8046).
   */
  LOCATOR_SET: 193,
  /**
   * PUZZLE: difficulty #K, lifetime exponent, Opaque and the random #I the Initiator must solve
   * (RFC 7401 §5.2.4).
   */
  PUZZLE: 257,
  /** SOLUTION: the echoed #K, Opaque and #I together with the Initiator's #J (RFC 7401 §5.2.5). */
  SOLUTION: 321,
  /** SEQ: the 32-bit Update ID of an UPDATE that must be acknowledged (RFC 7401 §5.2.16). */
  SEQ: 385,
  /** ACK: one or more peer Update IDs being acknowledged; not cumulative (RFC 7401 §5.2.17). */
  ACK: 449,
  /**
   * DH_GROUP_LIST: Diffie-Hellman group IDs in preference order, sent in I1 and R1 for
   * downgrade-safe negotiation (RFC 7401 §5.2.6).
   */
  DH_GROUP_LIST: 511,
  /**
   * DIFFIE_HELLMAN: group ID and public value; HIPv2 allows one value, HIPv1 up to two (RFC 7401
   * §5.2.7).
   */
  DIFFIE_HELLMAN: 513,
  /**
   * HIP_TRANSFORM (HIPv1 only): the HIP encryption/HMAC suites, replaced in HIPv2 by HIP_CIPHER
   * (RFC 5201).
   */
  HIP_TRANSFORM: 577,
  /**
   * HIP_CIPHER: cipher IDs for the ENCRYPTED parameter; a list in R1, exactly one in I2 (RFC 7401
   * §5.2.8).
   */
  HIP_CIPHER: 579,
  /**
   * NAT_TRAVERSAL_MODE: offered (R1) or selected (I2) NAT traversal modes, non-critical (RFC 5770).
   */
  NAT_TRAVERSAL_MODE: 608,
  /**
   * TRANSACTION_PACING: minimum Ta in milliseconds for ICE connectivity checks, non-critical (RFC
   * 5770).
   */
  TRANSACTION_PACING: 610,
  /**
   * ENCRYPTED: reserved field, IV and ciphertext of whole HIP parameters, in practice the
   * Initiator's HOST_ID in I2 (RFC 7401 §5.2.18).
   */
  ENCRYPTED: 641,
  /**
   * HOST_ID: the sender's public key (Host Identity) and optional Domain Identifier, from which the
   * HIT is hashed (RFC 7401 §5.2.9).
   */
  HOST_ID: 705,
  /**
   * HIT_SUITE_LIST: the Responder's supported HIT suites, one byte each with the ID in the high
   * nibble (RFC 7401 §5.2.10).
   */
  HIT_SUITE_LIST: 715,
  /** CERT: a certificate or certificate reference, non-critical (RFC 8002). */
  CERT: 768,
  /**
   * NOTIFICATION: notify message type plus data, carried in NOTIFY packets, non-critical (RFC 7401
   * §5.2.19).
   */
  NOTIFICATION: 832,
  /**
   * ECHO_REQUEST_SIGNED: opaque bytes the peer must return unchanged; covered by the MAC and
   * signature (RFC 7401 §5.2.20).
   */
  ECHO_REQUEST_SIGNED: 897,
  /** REG_INFO: a registrar's lifetime range and offered registration types (RFC 8003). */
  REG_INFO: 930,
  /** REG_REQUEST: a requester's wanted lifetime and registration types (RFC 8003). */
  REG_REQUEST: 932,
  /** REG_RESPONSE: the lifetime and registration types a registrar granted (RFC 8003). */
  REG_RESPONSE: 934,
  /** REG_FAILED: a failure type and the registration types a registrar refused (RFC 8003). */
  REG_FAILED: 936,
  /**
   * REG_FROM: the transport address a relay saw a registration come from; the only signed
   * relay-address parameter (RFC 5770).
   */
  REG_FROM: 950,
  /**
   * ECHO_RESPONSE_SIGNED: the bytes of an ECHO_REQUEST_SIGNED returned unchanged; covered by the
   * MAC and signature (RFC 7401 §5.2.22).
   */
  ECHO_RESPONSE_SIGNED: 961,
  /**
   * TRANSPORT_FORMAT_LIST: transport formats by their parameter type (ESP is 4095); a list in R1,
   * one in I2 (RFC 7401 §5.2.11).
   */
  TRANSPORT_FORMAT_LIST: 2049,
  /**
   * ESP_TRANSFORM: reserved field and ESP suite IDs; a list in R1, exactly one in I2 (RFC 7402
   * §5.1.2).
   */
  ESP_TRANSFORM: 4095,
  /** RELAYED_ADDRESS: the address a data relay allocated for the client (RFC 9028). */
  RELAYED_ADDRESS: 4650,
  /** MAPPED_ADDRESS: the client's server-reflexive address as the relay saw it (RFC 9028). */
  MAPPED_ADDRESS: 4660,
  /**
   * PEER_PERMISSION: permission for a peer to send through a data relay (RFC 9028; inner layout
   * unconfirmed).
   */
  PEER_PERMISSION: 4680,
  /**
   * CANDIDATE_PRIORITY: the 32-bit ICE priority of a candidate in a connectivity check (RFC 9028).
   */
  CANDIDATE_PRIORITY: 4700,
  /** NOMINATE: marks the nominated candidate pair in ICE-HIP-UDP mode (RFC 9028). */
  NOMINATE: 4710,
  /**
   * HIP_MAC: HMAC (RHASH) over every parameter with a lower type, keyed with the sender's HIP
   * integrity key (RFC 7401 §5.2.12).
   */
  HIP_MAC: 61505,
  /**
   * HIP_MAC_2: the R2 HMAC, computed as if the Responder's R1 HOST_ID were appended (RFC 7401
   * §5.2.13).
   */
  HIP_MAC_2: 61569,
  /**
   * HIP_SIGNATURE_2: the R1 signature, computed with the receiver's HIT and the PUZZLE's Opaque and
   * #I zeroed so R1s can be precomputed (RFC 7401 §5.2.15).
   */
  HIP_SIGNATURE_2: 61633,
  /**
   * HIP_SIGNATURE: signature over every parameter with a lower type, HIP_MAC included (RFC 7401
   * §5.2.14).
   */
  HIP_SIGNATURE: 61697,
  /**
   * ECHO_RESPONSE_UNSIGNED: an echo response placed after the signature, so covered by nothing (RFC
   * 7401 §5.2.23).
   */
  ECHO_RESPONSE_UNSIGNED: 63425,
  /**
   * ECHO_REQUEST_UNSIGNED: an echo request after the signature, which middleboxes may add (RFC 7401
   * §5.2.21).
   */
  ECHO_REQUEST_UNSIGNED: 63661,
  /**
   * RELAY_FROM: the Initiator's transport address, added by a HIP relay to a relayed I1 (RFC 5770).
   */
  RELAY_FROM: 63998,
  /** RELAY_TO: where a relay should forward an R1 or R2, copied from RELAY_FROM (RFC 5770). */
  RELAY_TO: 64002,
  /** FROM: the original source address of an I1 forwarded by a rendezvous server (RFC 8004). */
  FROM: 65498,
  /**
   * RVS_HMAC: HMAC by which a rendezvous server protects the FROM it added, keyed with its
   * association with the Responder (RFC 8004).
   */
  RVS_HMAC: 65500,
  /**
   * VIA_RVS: the rendezvous server addresses an I1 passed through, added by the Responder to its R1
   * (RFC 8004).
   */
  VIA_RVS: 65502,
  /**
   * RELAY_HMAC: HMAC by which a HIP relay protects the RELAY_FROM or RELAY_TO it added (RFC 5770).
   */
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
  /**
   * A critical parameter type was not recognised; the data is that 2-byte type (RFC 7401 §5.2.19).
   */
  UNSUPPORTED_CRITICAL_PARAMETER_TYPE: 1,
  /**
   * A parameter was malformed or missing, or the packet broke the parameter rules (RFC 7401
   * §5.2.19).
   */
  INVALID_SYNTAX: 7,
  /** None of the offered Diffie-Hellman groups is acceptable (RFC 7401 §5.2.19). */
  NO_DH_PROPOSAL_CHOSEN: 14,
  /**
   * The DIFFIE_HELLMAN group used is not one that was offered, or is not the one that should have
   * been chosen (RFC 7401 §5.2.19).
   */
  INVALID_DH_CHOSEN: 15,
  /** None of the offered HIP_CIPHER suites is acceptable (RFC 7401 §5.2.19). */
  NO_HIP_PROPOSAL_CHOSEN: 16,
  /** The HIP_CIPHER in the I2 is not one the R1 offered (RFC 7401 §5.2.19). */
  INVALID_HIP_CIPHER_CHOSEN: 17,
  /** None of the offered ESP transform suites is acceptable (RFC 7402 §5.1.3). */
  NO_ESP_PROPOSAL_CHOSEN: 18,
  /** The ESP_TRANSFORM in the I2 is not one the R1 offered (RFC 7402 §5.1.3). */
  INVALID_ESP_TRANSFORM_CHOSEN: 19,
  /**
   * The Initiator's HIT suite is not supported, or a HIT_SUITE_LIST entry was malformed (RFC 7401
   * §5.2.19).
   */
  UNSUPPORTED_HIT_SUITE: 20,
  /** A signature did not verify (RFC 7401 §5.2.19). */
  AUTHENTICATION_FAILED: 24,
  /** The HIP header checksum did not verify (RFC 7401 §5.2.19). */
  CHECKSUM_FAILED: 26,
  /** A HIP_MAC or HIP_MAC_2 did not verify (RFC 7401 §5.2.19). */
  HIP_MAC_FAILED: 28,
  /** The ENCRYPTED parameter could not be decrypted (RFC 7401 §5.2.19). */
  ENCRYPTION_FAILED: 32,
  /** A HIT does not match the Host Identity it should be derived from (RFC 7401 §5.2.19). */
  INVALID_HIT: 40,
  /** Local policy refuses an association with this peer (RFC 7401 §5.2.19). */
  BLOCKED_BY_POLICY: 42,
  /** The Responder cannot take the I2 now; the Initiator may retry later (RFC 7401 §5.2.19). */
  RESPONDER_BUSY_PLEASE_RETRY: 44,
  /** A preferred locator in LOCATOR_SET has a type the receiver does not support (RFC 8046). */
  LOCATOR_TYPE_UNSUPPORTED: 46,
  /** The receiver needs a certificate before it will proceed (RFC 8002). */
  CREDENTIALS_REQUIRED: 48,
  /** A certificate in CERT failed validation (RFC 8002). */
  INVALID_CERTIFICATE: 50,
  /** The requested service needs a registration that is missing (RFC 8003). */
  REG_REQUIRED: 51,
  /** NAT_TRAVERSAL_MODE is missing or selects an unsupported mode (RFC 5770). */
  NO_VALID_NAT_TRAVERSAL_MODE_PARAMETER: 60,
  /** ICE connectivity checks found no working candidate pair (RFC 5770). */
  CONNECTIVITY_CHECKS_FAILED: 61,
  /** A relay refused to forward the packet, e.g. for an unregistered HIT (RFC 5770). */
  MESSAGE_NOT_RELAYED: 62,
  /** A server could not provide a server-reflexive candidate (RFC 9028). */
  SERVER_REFLEXIVE_CANDIDATE_ALLOCATION_FAILED: 63,
  /** Rendezvous and control relay may not be used together (RFC 9028). */
  RVS_HMAC_PROHIBITED_WITH_RELAY: 64,
  /**
   * Status: the Responder has the I2, its puzzle correctly solved, queued for processing behind
   * others (RFC 7401 §5.2.19).
   */
  I2_ACKNOWLEDGEMENT: 16384,
  /**
   * Status: a NAT keepalive that only refreshes the NAT binding (RFC 9028; exact use unconfirmed).
   */
  NAT_KEEPALIVE: 16385,
} as const);

const notifyTypeNames = reverse(NotifyType);

/** Name of a notify message type, or `UNKNOWN(n)`. */
export function notifyTypeName(t: number): string {
  return notifyTypeNames.get(t) ?? `UNKNOWN(${t})`;
}

/** Diffie-Hellman group IDs (DIFFIE_HELLMAN, DH_GROUP_LIST). 1 and 2 are HIPv1 only. */
export const DhGroup = Object.freeze({
  /** HIPv1's 384-bit MODP group; deprecated. libhipl offers it next to group 3 but refuses it in I2. */
  MODP_384_V1: 1,
  /** 768-bit OAKLEY group 1 (HIPv1); deprecated. */
  OAKLEY_1: 2,
  /** 1536-bit MODP (RFC 3526 group 5); mandatory in HIPv2 and the group libhipl needs. */
  MODP_1536: 3,
  /** 3072-bit MODP (RFC 3526 group 15); SHOULD in HIPv2. */
  MODP_3072: 4,
  /** ECDH on NIST P-256; the public value is X ‖ Y, 32 bytes each, without a 0x04 prefix. */
  NIST_P256: 7,
  /** ECDH on NIST P-384 (SHOULD in HIPv2); public value X ‖ Y, 48 bytes each. */
  NIST_P384: 8,
  /** ECDH on NIST P-521; public value X ‖ Y, 66 bytes each. */
  NIST_P521: 9,
  /** ECDH on SECP160R1; low security, for constrained devices. */
  SECP160R1: 10,
  /** 2048-bit MODP (RFC 3526 group 14). */
  MODP_2048: 11,
} as const);

/**
 * HIT suite IDs (the 4-bit OGA value inside a HIT). On the wire of HIT_SUITE_LIST each ID sits
 * in the high nibble of a byte (suite 1 is sent as 0x10).
 */
export const HitSuite = Object.freeze({
  /** Suite 1 (REQUIRED): RSA or DSA Host Identity, SHA-256 for HIT, puzzle, HMAC and KEYMAT. */
  RSA_DSA_SHA256: 1,
  /** Suite 2: ECDSA on P-256 or P-384, SHA-384. */
  ECDSA_SHA384: 2,
  /** Suite 3: ECDSA_LOW on SECP160R1, SHA-1. */
  ECDSA_LOW_SHA1: 3,
  /**
   * Suite 5 (RFC 9374): EdDSA with a cSHAKE128 HIT; its use inside a base exchange is
   * underspecified.
   */
  EDDSA_CSHAKE128: 5,
} as const);

/** Host Identity algorithm IDs (HOST_ID algorithm, signature algorithm). */
export const HiAlgorithm = Object.freeze({
  /** DSA (RFC 2536 key format); RECOMMENDED in HIPv2. */
  DSA: 3,
  /** RSA (RFC 3110 key format); HIPv2 signs with RSASSA-PSS, HIPv1 with PKCS#1 v1.5 and SHA-1. */
  RSA: 5,
  /** ECDSA on NIST P-256 or P-384 (see {@link EcdsaCurveLabel}). */
  ECDSA: 7,
  /** ECDSA on SECP160R1, for constrained devices. */
  ECDSA_LOW: 9,
  /** EdDSA (RFC 9374; see {@link EddsaCurveLabel}). */
  EDDSA: 13,
} as const);

/** ECDSA curve labels inside an ECDSA Host Identity. */
export const EcdsaCurveLabel = Object.freeze({
  /** NIST P-256. */
  P256: 1,
  /** NIST P-384. */
  P384: 2
} as const);

/** EdDSA curve labels inside an EdDSA Host Identity (RFC 9374). */
export const EddsaCurveLabel = Object.freeze({
  /** Ed25519 (RECOMMENDED). */
  ED25519: 1,
  /** Ed25519ph, the prehashed variant. */
  ED25519PH: 2,
  /** Ed448 (RECOMMENDED). */
  ED448: 3,
  /** Ed448ph, the prehashed variant. */
  ED448PH: 4,
} as const);

/** HIP_CIPHER IDs (HIPv2 encryption of the ENCRYPTED parameter). */
export const HipCipherId = Object.freeze({
  /** NULL-ENCRYPT: no encryption; for testing only, never offered or accepted unless configured. */
  NULL: 1,
  /** AES-128-CBC with a 16-byte IV; mandatory to implement. */
  AES_128_CBC: 2,
  /** AES-256-CBC with a 16-byte IV. */
  AES_256_CBC: 4
} as const);

/** HIP_TRANSFORM suite IDs (HIPv1, as libhipl supports them). */
export const HipTransformV1 = Object.freeze({
  /** AES-128-CBC encryption with HMAC-SHA1; the suite libhipl lists first. */
  AES_SHA1: 1,
  /** 3DES-CBC encryption with HMAC-SHA1. */
  TDES_SHA1: 2,
  /** No encryption, HMAC-SHA1 only. */
  NULL_SHA1: 5
} as const);

/** ESP_TRANSFORM suite IDs (RFC 7402). */
export const EspSuite = Object.freeze({
  /** AES-128-CBC with HMAC-SHA1-96 (12-byte ICV). */
  AES128_CBC_SHA1: 1,
  /**
   * No encryption, HMAC-SHA-256 with a 16-byte ICV; authentication only, so refused unless policy
   * allows it.
   */
  NULL_SHA256: 7,
  /** AES-128-CBC with HMAC-SHA-256 (16-byte ICV); mandatory to implement. */
  AES128_CBC_SHA256: 8,
  /** AES-256-CBC with HMAC-SHA-256 (16-byte ICV). */
  AES256_CBC_SHA256: 9,
  /** AES-CCM with an 8-byte ICV (RFC 4309). */
  AES_CCM_8: 10,
  /** AES-CCM with a 16-byte ICV (RFC 4309). */
  AES_CCM_16: 11,
  /** AES-GCM with an 8-byte ICV (RFC 4106); the key is followed by a 4-byte salt. */
  AES_GCM_8: 12,
  /** AES-GCM with a 16-byte ICV (RFC 4106); the key is followed by a 4-byte salt. */
  AES_GCM_16: 13,
  /** AES-CMAC-96, authentication only (RFC 4494). */
  AES_CMAC_96: 14,
  /** AES-GMAC, authentication only (RFC 4543). */
  AES_GMAC: 15,
} as const);

/** NAT_TRAVERSAL_MODE IDs (RFC 5770, RFC 9028). */
export const NatMode = Object.freeze({
  /** UDP encapsulation with no connectivity checks (RFC 5770). */
  UDP_ENCAPSULATION: 1,
  /** ICE with STUN connectivity checks (RFC 5770). */
  ICE_STUN_UDP: 2,
  /** ICE logic with HIP UPDATE packets as the connectivity checks (RFC 9028). */
  ICE_HIP_UDP: 3,
} as const);

/** Registration types (RFC 8003 REG_* parameters). */
export const RegType = Object.freeze({
  /** Rendezvous service: the server forwards I1s to the registered host (RFC 8004). */
  RENDEZVOUS: 1,
  /** HIP control relay over UDP (RFC 5770). */
  RELAY_UDP_HIP: 2,
  /** Data relay for UDP-encapsulated ESP (RFC 9028). */
  RELAY_UDP_ESP: 3,
  /** Server-reflexive candidate discovery (RFC 9028). */
  CANDIDATE_DISCOVERY: 4,
} as const);

/** TRANSPORT_FORMAT_LIST entries: the parameter type of each transport format. */
export const TransportFormat = Object.freeze({
  /** ESP, named by the type of its ESP_TRANSFORM parameter. */
  ESP: 4095
} as const);

/** HOST_ID Domain Identifier types. */
export const DiType = Object.freeze({
  /** No Domain Identifier (its length is then 0). */
  NONE: 0,
  /**
   * A fully qualified domain name; HIPv2 uses DNS wire format, libhipl a plain NUL-terminated
   * string.
   */
  FQDN: 1,
  /** A Network Access Identifier (user@realm). */
  NAI: 2
} as const);

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
export const LocatorTrafficType = Object.freeze({
  /** The locator carries both HIP signalling and data. */
  BOTH: 0,
  /** The locator carries HIP signalling only. */
  SIGNALLING: 1,
  /** The locator carries data only. */
  DATA: 2
} as const);

/** HIP version numbers the codec speaks. */
export const HipVersionNumber = Object.freeze({
  /** HIPv1 (RFC 5201), header byte 3 is 0x11; the version libhipl speaks. */
  V1: 1,
  /** HIPv2 (RFC 7401), header byte 3 is 0x21; the default. */
  V2: 2
} as const);
