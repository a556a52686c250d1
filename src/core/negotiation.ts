/**
 * Pure selection rules of the base exchange (RFC 7401 4.1.7, 5.2.x; RFC 7402 5.1.2).
 * @module
 */

/** The first entry of `preferred` that `offered` also holds, or undefined. */
export function firstCommon(preferred: readonly number[], offered: readonly number[]): number | undefined {
  for (const p of preferred) if (offered.includes(p)) return p;
  return undefined;
}

/**
 * The responder's DH group choice: the first group in its own list that the initiator offered.
 */
export function chooseDhGroup(responderList: readonly number[], initiatorList: readonly number[]): number | undefined {
  return firstCommon(responderList, initiatorList);
}

/**
 * Downgrade check of the initiator (RFC 7401 4.1.7): the group the responder used must be the
 * first of the responder's signed list that the initiator offered, and it must be one the
 * initiator offered. Returns true when the R1 is consistent.
 */
export function isDhChoiceConsistent(
  usedGroup: number,
  responderList: readonly number[],
  initiatorList: readonly number[],
): boolean {
  return initiatorList.includes(usedGroup) && chooseDhGroup(responderList, initiatorList) === usedGroup;
}

/**
 * The initiator's choice from a responder's offer (HIP_CIPHER, ESP_TRANSFORM, TRANSPORT_FORMAT,
 * HIP_TRANSFORM): the first one in the responder's order that the initiator supports, as libhipl
 * and RFC 7402 do. RFC 7401 limits lists to 6 entries; later ones are ignored.
 */
export function chooseFromOffer(responderOffer: readonly number[], supported: readonly number[]): number | undefined {
  return firstCommon(responderOffer.slice(0, 6), supported);
}

/** Our supported list, minus the insecure IDs unless they are explicitly allowed. */
export function allowed(list: readonly number[], insecure: readonly number[], allowInsecure: boolean): number[] {
  return allowInsecure ? [...list] : list.filter((x) => !insecure.includes(x));
}

/**
 * True when the ENCRYPTED parameter of this HIP cipher (v2) or HIP transform (v1) carries its
 * plaintext as is: NULL encryption, no IV.
 */
export function isNullHipCipher(version: 1 | 2, cipher: number): boolean {
  return version === 1 ? cipher === 5 : cipher === 1;
}
