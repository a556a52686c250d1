import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { ESP_SUITES, espKeymatLengths, espPacketLength, espSuite } from '../../src/esp/suites.js';

describe('ESP suites', () => {
  it('implements exactly suites 1, 7, 8, 9, 12, 13', () => {
    expect([...ESP_SUITES.keys()].sort((a, b) => a - b)).toEqual([1, 7, 8, 9, 12, 13]);
    for (const [id, s] of ESP_SUITES) expect(s.id).toBe(id);
  });

  it('draws the KEYMAT lengths of RFC 7402 §5.1.2 (GCM: 16-byte key + 4-byte salt, RFC 4106 §8.1)', () => {
    expect(espKeymatLengths(1)).toEqual({ enc: 16, auth: 20 });
    expect(espKeymatLengths(7)).toEqual({ enc: 0, auth: 32 });
    expect(espKeymatLengths(8)).toEqual({ enc: 16, auth: 32 });
    expect(espKeymatLengths(9)).toEqual({ enc: 32, auth: 32 });
    expect(espKeymatLengths(12)).toEqual({ enc: 20, auth: 0 });
    expect(espKeymatLengths(13)).toEqual({ enc: 20, auth: 0 });
  });

  it('has the ICV sizes of the algorithms: HMAC-SHA1-96, HMAC-SHA-256-128, GCM 8 and 16', () => {
    expect([1, 7, 8, 9, 12, 13].map((id) => espSuite(id).icvLength)).toEqual([12, 16, 16, 16, 8, 16]);
    expect(espSuite(7).insecure).toBe(true);
    expect([1, 8, 9, 12, 13].some((id) => espSuite(id).insecure)).toBe(false);
  });

  it('refuses every other ID with ERR_ESP_UNSUPPORTED_SUITE', () => {
    for (const id of [0, 2, 3, 4, 5, 6, 10, 11, 14, 15, 16, 65535, -1, 1.5, NaN]) {
      let err: unknown;
      try {
        espKeymatLengths(id);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HipEspError);
      expect((err as HipEspError).code).toBe('ERR_ESP_UNSUPPORTED_SUITE');
    }
  });

  it('computes packet lengths: header, IV, padding to the block or to 4, ICV', () => {
    expect(espPacketLength(8, 1400)).toBe(8 + 16 + 1408 + 16);
    expect(espPacketLength(8, 14)).toBe(8 + 16 + 16 + 16);
    expect(espPacketLength(8, 15)).toBe(8 + 16 + 32 + 16);
    expect(espPacketLength(1, 0)).toBe(8 + 16 + 16 + 12);
    expect(espPacketLength(7, 2)).toBe(8 + 4 + 16);
    expect(espPacketLength(12, 3)).toBe(8 + 8 + 8 + 8);
    expect(espPacketLength(13, 1400)).toBe(8 + 8 + 1404 + 16);
  });
});
