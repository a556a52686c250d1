/**
 * Helpers for the address-carrying parts of parameters: LOCATOR_SET locator values (RFC 8046
 * types 0 and 1, RFC 5770 type 2) and IPv4-mapped IPv6 addresses.
 * @module
 */
import { LocatorType } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';
import { checkBytes, checkUint } from './field-checks.js';
import type { Locator } from './types.js';

/** A decoded locator value, by locator type. */
export type LocatorValue =
  | {
      /** Plain address. */
      locatorType: 0;
      /** 16 bytes (IPv6 or IPv4-mapped). */
      address: Uint8Array;
    }
  | {
      /** ESP SPI + address. */
      locatorType: 1;
      /** The SPI the sender expects to receive on at this address. */
      spi: number;
      /** 16 bytes (IPv6 or IPv4-mapped). */
      address: Uint8Array;
    }
  | {
      /** RFC 5770 transport address. */
      locatorType: 2;
      /** UDP or TCP port of the transport address. */
      port: number;
      /** Transport protocol, 17 = UDP. */
      protocol: number;
      /** Candidate kind: 0 host, 1 server-reflexive, 2 peer-reflexive, 3 relayed. */
      kind: number;
      /** ICE priority. */
      priority: number;
      /** The inbound SPI the sender expects on this locator. */
      spi: number;
      /** 16 bytes (IPv6 or IPv4-mapped). */
      address: Uint8Array;
    };

const LOCATOR_VALUE_LENGTH = [16, 20, 28] as const;

/**
 * Decode the value of a locator record. Returned addresses are views into `loc.value`.
 *
 * @example
 * ```ts
 * for (const loc of getParam(update, ParamType.LOCATOR_SET)?.locators ?? []) {
 *   const v = decodeLocatorValue(loc);
 *   if (v.locatorType === 1) console.log(v.spi, unmapIpv4(v.address));
 * }
 * ```
 * @throws HipWireError ERR_HIP_UNKNOWN_LOCATOR_TYPE for other types, ERR_HIP_PARAM_LENGTH if
 * the value has the wrong length for its type
 */
export function decodeLocatorValue(loc: Pick<Locator, 'locatorType' | 'value'>): LocatorValue {
  const t = loc.locatorType;
  if (t !== 0 && t !== 1 && t !== 2) {
    throw wireError(WireErrorCode.UNKNOWN_LOCATOR_TYPE, `locator type ${t} is not supported`, { locatorType: t });
  }
  const v = loc.value;
  if (v.length !== LOCATOR_VALUE_LENGTH[t]) {
    throw wireError(
      WireErrorCode.PARAM_LENGTH,
      `locator of type ${t} is ${v.length} bytes, expected ${LOCATOR_VALUE_LENGTH[t]}`,
      { paramType: 193, locatorType: t, length: v.length },
    );
  }
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  if (t === 0) return { locatorType: 0, address: v.subarray(0, 16) };
  if (t === 1) return { locatorType: 1, spi: dv.getUint32(0), address: v.subarray(4, 20) };
  return {
    locatorType: 2,
    port: dv.getUint16(0),
    protocol: v[2]!,
    kind: v[3]!,
    priority: dv.getUint32(4),
    spi: dv.getUint32(8),
    address: v.subarray(12, 28),
  };
}

/**
 * Encode a locator value: the `locatorType` and `value` of a {@link Locator} record.
 * @throws HipWireError ERR_HIP_BAD_FIELD, ERR_HIP_UNKNOWN_LOCATOR_TYPE
 */
export function encodeLocatorValue(v: LocatorValue): {
  /** The locator type to put in the record (0, 1 or 2). */
  locatorType: number;
  /** The encoded locator: 16, 20 or 28 bytes by type. */
  value: Uint8Array;
} {
  const T = 193;
  const t = (v as { locatorType: unknown }).locatorType;
  if (t !== LocatorType.ADDRESS && t !== LocatorType.ESP_SPI_ADDRESS && t !== LocatorType.TRANSPORT) {
    throw wireError(WireErrorCode.UNKNOWN_LOCATOR_TYPE, `locator type ${String(t)} is not supported`, {
      locatorType: t,
    });
  }
  const out = new Uint8Array(LOCATOR_VALUE_LENGTH[v.locatorType]);
  const dv = new DataView(out.buffer);
  const address = checkBytes(T, 'address', v.address, 16);
  if (v.locatorType === 0) {
    out.set(address, 0);
  } else if (v.locatorType === 1) {
    dv.setUint32(0, checkUint(T, 'spi', v.spi, 32));
    out.set(address, 4);
  } else {
    dv.setUint16(0, checkUint(T, 'port', v.port, 16));
    out[2] = checkUint(T, 'protocol', v.protocol, 8);
    out[3] = checkUint(T, 'kind', v.kind, 8);
    dv.setUint32(4, checkUint(T, 'priority', v.priority, 32));
    dv.setUint32(8, checkUint(T, 'spi', v.spi, 32));
    out.set(address, 12);
  }
  return { locatorType: v.locatorType, value: out };
}

/**
 * The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of a 4-byte IPv4 address; a 16-byte address is
 * returned as a copy. HIP address fields are always 16 bytes.
 *
 * @example
 * ```ts
 * mapIpv4(new Uint8Array([192, 0, 2, 1])) // 00..00 ffff c0000201
 * ```
 * @throws HipWireError ERR_HIP_BAD_ADDRESS for other lengths
 */
export function mapIpv4(address: Uint8Array): Uint8Array {
  if (address instanceof Uint8Array && address.length === 16) return address.slice();
  if (!(address instanceof Uint8Array) || address.length !== 4) {
    throw wireError(WireErrorCode.BAD_ADDRESS, 'an address must be 4 or 16 bytes', {
      length: (address as Uint8Array | undefined)?.length,
    });
  }
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(address, 12);
  return out;
}

/** The 4-byte IPv4 address inside an IPv4-mapped IPv6 address, or `undefined` if it is not one. */
export function unmapIpv4(address: Uint8Array): Uint8Array | undefined {
  if (address.length !== 16 || address[10] !== 0xff || address[11] !== 0xff) return undefined;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return undefined;
  return address.subarray(12, 16);
}
