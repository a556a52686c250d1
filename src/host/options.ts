/**
 * Validation of {@link HostOptions} at creation (issue 8): a bad value is refused with
 * `HipArgumentError` `ERR_HIP_BAD_OPTION` naming the option, instead of breaking the host at
 * the first packet (e.g. a replay window the first incoming BEX would choke on).
 * @module
 */
import { badOption, checkBoolean, checkInteger, checkNumber, checkOneOf } from '../core/option-check.js';
import { HostIdentity } from '../crypto/identity.js';
import type { HostOptions } from './host-types.js';
import { checkStreamConfig } from './stream-protocol.js';

const MAX_SEQUENCE = (1n << 64n) - 1n;
/** Largest anti-replay window the ESP layer keeps (a bitmap of this many bits). */
const MAX_REPLAY_WINDOW = 65536;

/** Throw `ERR_HIP_BAD_OPTION` unless every given host option is usable. Engine options are checked by the engine. */
export function checkHostOptions(o: HostOptions): void {
  if (o === null || typeof o !== 'object') throw badOption('options', 'must be an object', o);
  if (o.identity !== undefined && !(o.identity instanceof HostIdentity)) {
    throw badOption('identity', 'must be a HostIdentity (HostIdentity.generate() or HostIdentity.load(path))', o.identity);
  }
  if (o.engine !== undefined && (o.engine === null || typeof o.engine !== 'object')) throw badOption('engine', 'must be an object', o.engine);
  if (o.provider !== undefined) checkOneOf('provider', o.provider, ['node', 'noble']);
  checkCarrier('udp', o.udp);
  checkCarrier('tcp', o.tcp);
  if (o.tcp) {
    if (o.tcp.maxUnverified !== undefined) checkInteger('tcp.maxUnverified', o.tcp.maxUnverified, 1);
    if (o.tcp.verifyTimeoutMs !== undefined) checkNumber('tcp.verifyTimeoutMs', o.tcp.verifyTimeoutMs, 1);
    if (o.tcp.idleTimeoutMs !== undefined) checkNumber('tcp.idleTimeoutMs', o.tcp.idleTimeoutMs, 1);
  }
  for (const k of ['pcap', 'keylog'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw badOption(k, 'must be a file path', v);
  }
  if (o.queueLimitBytes !== undefined) checkInteger('queueLimitBytes', o.queueLimitBytes, 0);
  if (o.replayWindow !== undefined) checkInteger('replayWindow', o.replayWindow, 1, MAX_REPLAY_WINDOW);
  if (o.rekeyThreshold !== undefined && (typeof o.rekeyThreshold !== 'bigint' || o.rekeyThreshold < 1n || o.rekeyThreshold > MAX_SEQUENCE)) {
    throw badOption('rekeyThreshold', 'must be a bigint 1..2^64-1', o.rekeyThreshold);
  }
  if (o.libhiplClearText !== undefined) checkBoolean('libhiplClearText', o.libhiplClearText);
  if (o.natMode !== undefined && typeof o.natMode !== 'boolean') {
    if (o.natMode === null || typeof o.natMode !== 'object') throw badOption('natMode', 'must be a boolean or { keepaliveMs, livenessMs, watchAddressesMs }', o.natMode);
    for (const k of ['keepaliveMs', 'livenessMs', 'watchAddressesMs'] as const) {
      if (o.natMode[k] !== undefined) checkNumber(`natMode.${k}`, o.natMode[k], 0);
    }
  }
  if (o.tcpResumeMs !== undefined) checkNumber('tcpResumeMs', o.tcpResumeMs, 0);
  if (o.espSequenceV1 !== undefined) checkOneOf('espSequenceV1', o.espSequenceV1, ['esn', '32bit']);
  if (o.stream !== undefined) {
    if (o.stream === null || typeof o.stream !== 'object') throw badOption('stream', 'must be an object', o.stream);
    checkStreamConfig(o.stream);
  }
}

function checkCarrier(name: 'udp' | 'tcp', v: HostOptions['udp'] | HostOptions['tcp']): void {
  if (v === undefined || v === false) return;
  if (v === null || typeof v !== 'object') throw badOption(name, 'must be false or an object { address, port, family }', v);
  if (v.address !== undefined && typeof v.address !== 'string') throw badOption(`${name}.address`, 'must be an IP address', v.address);
  if (v.port !== undefined) checkInteger(`${name}.port`, v.port, 0, 65535);
  if (v.family !== undefined) checkOneOf(`${name}.family`, v.family, [4, 6]);
}
