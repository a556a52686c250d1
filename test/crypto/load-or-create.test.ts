/**
 * loadOrCreateIdentity: the first call creates a 0600 key file, later calls (and racing calls)
 * load the same identity, and a file that cannot be trusted or is of the wrong algorithm is
 * refused instead of replaced.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/crypto/load-or-create.js';
import { HostIdentity } from '../../src/crypto/identity.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(join(os.tmpdir(), 'hipl-load-or-create-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const codeOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e as { code?: string }).code);
const isWindows = process.platform === 'win32';

describe('loadOrCreateIdentity', () => {
  it('creates the key file with mode 0600 on first use, then loads the same identity', async () => {
    const path = join(dir, 'host.pem');
    const first = await loadOrCreateIdentity(path);
    expect(fs.existsSync(path)).toBe(true);
    if (!isWindows) expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateIdentity(path);
    expect(again.hitString()).toBe(first.hitString());
    expect((await HostIdentity.load(path)).hitString()).toBe(first.hitString());
  });

  it('gives racing callers one identity', async () => {
    const path = join(dir, 'raced.pem');
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(path)));
    expect(new Set(ids.map((id) => id.hitString())).size).toBe(1);
  });

  it('creates the requested algorithm and refuses a saved key of another one', async () => {
    const path = join(dir, 'p384.pem');
    expect((await loadOrCreateIdentity(path, { algorithm: 'ecdsa-p384' })).algorithm).toBe('ecdsa-p384');
    expect(await codeOf(loadOrCreateIdentity(path, { algorithm: 'ecdsa-p256' }))).toBe('ERR_IDENTITY_ALGORITHM_MISMATCH');
  });

  it.skipIf(isWindows)('refuses, and keeps, a key file others can read', async () => {
    const path = join(dir, 'open.pem');
    const id = await loadOrCreateIdentity(path);
    fs.chmodSync(path, 0o644);
    expect(await codeOf(loadOrCreateIdentity(path))).toBe('ERR_IDENTITY_INSECURE_KEY_FILE');
    fs.chmodSync(path, 0o600);
    expect((await HostIdentity.load(path)).hitString()).toBe(id.hitString());
  });

  it('reports a directory that does not exist instead of creating anything', async () => {
    expect(await codeOf(loadOrCreateIdentity(join(dir, 'no-such-dir', 'host.pem')))).toMatch(/^ERR_IDENTITY_KEY_FILE_/);
  });
});
