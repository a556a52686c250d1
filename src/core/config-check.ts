/**
 * Validation of the engine configuration at creation (issue 8): every option that could break
 * the engine later (no DH group to offer, a puzzle no one can solve, a retransmission timer that
 * never fires) is refused with `ERR_HIP_BAD_OPTION` naming it.
 * @module
 */
import { isSupportedDhGroup } from '../crypto/dh-groups.js';
import { ESP_SUITES } from '../esp/suites.js';
import { HipCipherId, HipTransformV1 } from '../wire/constants.js';
import type { EngineConfig } from './config.js';
import { badOption, checkBoolean, checkIdList, checkInteger, checkNumber, checkOneOf } from './option-check.js';

const HIP_CIPHERS: readonly number[] = Object.values(HipCipherId);
const HIP_TRANSFORMS_V1: readonly number[] = Object.values(HipTransformV1);
/** The IDs of each list that are insecure (NULL encryption): usable only with `allowInsecure`. */
const INSECURE: Readonly<Record<string, readonly number[]>> = { espSuites: [7], espSuitesV1: [7], hipCiphers: [HipCipherId.NULL], hipTransformsV1: [HipTransformV1.NULL_SHA1] };

/**
 * Throw `HipArgumentError` `ERR_HIP_BAD_OPTION` (message and `details.option` name the option)
 * unless every field of a resolved engine configuration is usable.
 */
export function checkEngineConfig(c: EngineConfig): void {
  checkOneOf('version', c.version, [1, 2]);
  checkIdList('dhGroups', c.dhGroups, isSupportedDhGroup);
  checkIdList('dhGroupsV1', c.dhGroupsV1, isSupportedDhGroup);
  checkBoolean('allowInsecure', c.allowInsecure);
  const lists = [
    ['hipCiphers', c.hipCiphers, (id: number) => HIP_CIPHERS.includes(id)],
    ['espSuites', c.espSuites, (id: number) => ESP_SUITES.has(id)],
    ['espSuitesV1', c.espSuitesV1, (id: number) => ESP_SUITES.has(id)],
    ['hipTransformsV1', c.hipTransformsV1, (id: number) => HIP_TRANSFORMS_V1.includes(id)],
  ] as const;
  for (const [name, list, known] of lists) {
    checkIdList(name, list, known);
    // A list of insecure IDs alone offers nothing unless they are allowed.
    if (!c.allowInsecure && list.every((id) => INSECURE[name]!.includes(id))) {
      throw badOption(name, 'lists only insecure (NULL) IDs, which need allowInsecure', list);
    }
  }
  checkBoolean('encryptHostId', c.encryptHostId);
  checkBoolean('natMode', c.natMode);
  checkBoolean('holePunching', c.holePunching);
  checkBoolean('opportunistic', c.opportunistic);
  const p = c.policy;
  if (p !== undefined && typeof p !== 'function' && !(Array.isArray(p) && p.every((h) => typeof h === 'string'))) {
    throw badOption('policy', 'must be a list of HITs or a function', p);
  }
  if (c.puzzle === null || typeof c.puzzle !== 'object') throw badOption('puzzle', 'must be an object', c.puzzle);
  checkInteger('puzzle.difficulty', c.puzzle.difficulty, 0, 255);
  checkInteger('puzzle.lifetime', c.puzzle.lifetime, 0, 255);
  checkInteger('puzzle.maxDifficulty', c.puzzle.maxDifficulty, 0, 255);
  checkNumber('puzzle.rotationMs', c.puzzle.rotationMs, 1);
  checkInteger('puzzle.sliceAttempts', c.puzzle.sliceAttempts, 1, 2 ** 24);
  checkBoolean('puzzle.adaptive', c.puzzle.adaptive);
  checkNumber('puzzle.loadThreshold', c.puzzle.loadThreshold, 1);
  checkInteger('puzzle.maxAdaptiveDifficulty', c.puzzle.maxAdaptiveDifficulty, 0, 255);
  const r = c.retransmit;
  if (r === null || typeof r !== 'object') throw badOption('retransmit', 'must be an object', r);
  checkNumber('retransmit.initialMs', r.initialMs, 1);
  checkNumber('retransmit.maxMs', r.maxMs, r.initialMs);
  for (const k of ['i1Retries', 'i2Retries', 'closeRetries', 'updateRetries'] as const) checkInteger(`retransmit.${k}`, r[k], 0, 1000);
  checkNumber('idleTimeoutMs', c.idleTimeoutMs, 0);
  checkNumber('closedLingerMs', c.closedLingerMs, 0);
  checkNumber('r2SentDwellMs', c.r2SentDwellMs, 0);
  checkNumber('notifyPerSecond', c.notifyPerSecond, 0);
  checkNumber('keepaliveMs', c.keepaliveMs, 0);
  checkNumber('livenessMs', c.livenessMs, 0);
  checkNumber('peerLossMs', c.peerLossMs, 0);
  checkInteger('maxAssociations', c.maxAssociations, 1);
}
