/**
 * Typed errors shared by every layer. Each failure has a stable `code` that programs can
 * switch on; the message is for people and may change.
 *
 * This module is a leaf: it imports nothing, so every layer (wire included) may use it.
 * @module
 */

/**
 * Base class of every error hipl throws or reports.
 *
 * @example
 * ```ts
 * try { parsePacket(bytes); } catch (e) {
 *   if (e instanceof HipError && e.code === 'ERR_HIP_TRUNCATED') { ... }
 * }
 * ```
 */
export class HipError extends Error {
  /** Stable machine-readable code, e.g. `ERR_HIP_BAD_CHECKSUM`. */
  readonly code: string;
  /** Extra structured facts about the failure (parameter type, lengths, ...). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A packet or parameter could not be parsed or failed validation (wire layer). */
export class HipWireError extends HipError {}

/** A cryptographic operation failed or a key could not be used (crypto layer). */
export class HipCryptoError extends HipError {}

/** An identity or key file could not be created, read or trusted. */
export class HipIdentityError extends HipError {}

/** A protocol rule was broken by the peer or by local use (core layer). */
export class HipProtocolError extends HipError {}

/** An ESP packet was rejected or an SA could not be used. */
export class HipEspError extends HipError {}

/** A public API function was called with invalid arguments. */
export class HipArgumentError extends HipError {}
