/**
 * Where the test fixtures live: inside the repository, so a fresh clone with nothing beside it
 * runs every test. `test/fixtures/captures/` is a copy of the real captures (libhipl, hipd,
 * CuteHIP) with their vectors and README.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the captures folder, with a trailing slash. */
export const CAPTURES_DIR = fileURLToPath(new URL('../fixtures/captures/', import.meta.url));
