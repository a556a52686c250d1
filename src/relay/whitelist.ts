/**
 * The server whitelist file: one HIT per line, `#` starts a comment, blank lines ignored (the
 * role of HIPL's `relay.conf` whitelist).
 * @module
 */
import { readFileSync } from 'node:fs';
import { formatHit, isHit, parseHit } from '../crypto/hit.js';
import { HipArgumentError } from '../errors.js';

/**
 * Parse whitelist text into canonical HITs.
 *
 * @example
 * ```ts
 * parseWhitelist('# our responders\n2001:2a:1234::1\n'); // ['2001:2a:1234::1']
 * ```
 * @throws HipArgumentError `ERR_HIP_BAD_WHITELIST` naming the first line that is not a HIT.
 */
export function parseWhitelist(text: string, source = 'whitelist'): string[] {
  const hits: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (!isHit(line)) throw new HipArgumentError('ERR_HIP_BAD_WHITELIST', `${source} line ${i + 1}: not a HIT: ${line}`);
    hits.push(formatHit(parseHit(line)));
  });
  return hits;
}

/** Read and parse a whitelist file. */
export function loadWhitelist(path: string): string[] {
  return parseWhitelist(readFileSync(path, 'utf8'), path);
}
