/**
 * Parsing of the `hipl` command's peer arguments: `HIT@ADDR:PORT` targets and `HIT=ADDR`
 * peer mappings.
 * @module
 */
import { isIP } from 'node:net';
import { isHit } from '../crypto/hit.js';
import { canonicalHit } from '../host/peer-table.js';
import { CliError, ExitCode } from './exit-codes.js';

/** A parsed `connect` target: a HIT, or a name to look up in the hosts file. */
export interface Target {
  /** Canonical HIT text, when the target is a HIT. */
  hit?: string;
  /** A hosts-file name, when the target is not a HIT. */
  name?: string;
  /** Address, when the target names one. */
  address?: string;
  /** Port, when the target names one. */
  port?: number;
}

/** Parse a port number; `what` names it in the message. */
export function parsePort(text: string, what: string, min = 1): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) throw new CliError(ExitCode.USAGE, `${what}: not a port number: ${text}`);
  return n;
}

function parseHitArg(text: string, what: string): string {
  if (!isHit(text)) throw new CliError(ExitCode.USAGE, `${what}: not a HIT: ${text} (a HIT looks like 2001:2x:...)`);
  return canonicalHit(text);
}

/** A hosts-file name: letters, digits and `.-_`, as HIPL's hosts files have them. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `HIT`, `HIT@ADDR`, `HIT@ADDR:PORT`, `HIT@[IPV6]:PORT`, or `NAME` (a name from `--hosts`). An
 * IPv6 address with a port needs brackets; without a port it may go bare.
 */
export function parseTarget(text: string): Target {
  const at = text.indexOf('@');
  if (at < 0) return !isHit(text) && NAME_RE.test(text) ? { name: text } : { hit: parseHitArg(text, 'target') };
  const hit = parseHitArg(text.slice(0, at), 'target');
  const rest = text.slice(at + 1);
  let address: string;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2] !== undefined) port = parsePort(bracket[2], 'target');
  } else if (isIP(rest) === 6) {
    address = rest;
  } else {
    const colon = rest.lastIndexOf(':');
    address = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) port = parsePort(rest.slice(colon + 1), 'target');
  }
  if (isIP(address) === 0) throw new CliError(ExitCode.USAGE, `target: not an IP address: ${address}`);
  return port === undefined ? { hit, address } : { hit, address, port };
}

/** `HIT=ADDR` (from `--peer`). */
export function parsePeer(text: string): { hit: string; address: string } {
  const eq = text.indexOf('=');
  if (eq < 0) throw new CliError(ExitCode.USAGE, `--peer: expected HIT=ADDR, got ${text}`);
  const hit = parseHitArg(text.slice(0, eq), '--peer');
  const address = text.slice(eq + 1).replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0) throw new CliError(ExitCode.USAGE, `--peer: not an IP address: ${address}`);
  return { hit, address };
}
