/**
 * Key generation: the keys HostIdentity.generate makes are well formed (they sign, survive a
 * PEM round trip, and are distinct), and generating thousands of them cannot hang the process.
 * Node 20.20 deadlocked in `KeyObject.export({ format: 'jwk' })` of a fresh key when a GC ran
 * the finished generation job's destructor (issue 9); the loop below hung within a few thousand
 * keys before keygen.ts.
 */
import { execFile } from 'node:child_process';
import { sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HostIdentity, type IdentityAlgorithm } from '../../src/crypto/identity.js';
import { materialToKeyObject, materialToPublicKeyObject } from '../../src/crypto/key-convert.js';
import { parsePrivateKeyPem, privateKeyToPem } from '../../src/crypto/keyfile.js';
import { generatePrivateKeyMaterial } from '../../src/crypto/keygen.js';
import { publicKeyOf } from '../../src/crypto/keys.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ALGORITHMS: IdentityAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'];

describe('generatePrivateKeyMaterial', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: a key pair that signs and verifies, unchanged by a PEM round trip`, () => {
      for (let i = 0; i < (algorithm === 'rsa' ? 2 : 20); i++) {
        const key = generatePrivateKeyMaterial(algorithm, 1024);
        const msg = Buffer.from('probe');
        const hash = key.kind === 'ed25519' ? null : 'sha256';
        expect(verify(hash, msg, materialToPublicKeyObject(publicKeyOf(key)), sign(hash, msg, materialToKeyObject(key)))).toBe(true);
        expect(parsePrivateKeyPem(privateKeyToPem(key))).toEqual(key);
        // HostIdentity.fromPrivateKey checks the pair too (sign/verify with node's KeyObjects).
        expect(HostIdentity.fromPrivateKey(key).algorithm).toBe(algorithm);
      }
    });
  }

  it('gives RSA the asked modulus size, and distinct keys every time', () => {
    const key = generatePrivateKeyMaterial('rsa', 1536);
    expect(key.kind === 'rsa' && key.n.length).toBe(192);
    const ds = new Set(Array.from({ length: 50 }, () => Buffer.from((generatePrivateKeyMaterial('ecdsa-p256', 0) as { d: Uint8Array }).d).toString('hex')));
    expect(ds.size).toBe(50);
  });
});

describe('HostIdentity.generate under garbage-collection pressure', () => {
  const run = promisify(execFile);
  const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = join(root, 'test/crypto/fixtures/generate-many.ts');
  const cases: [IdentityAlgorithm, number][] = [
    ['ecdsa-p256', 20000],
    ['ecdsa-p384', 1000],
    ['ed25519', 3000],
    ['rsa', 30],
  ];
  for (const [algorithm, count] of cases) {
    it(`generates ${count} ${algorithm} identities without hanging`, async () => {
      // A 1 MiB young generation makes scavenges frequent: the old code hung before 20000 P-256 keys, every time.
      const { stdout } = await run(process.execPath, ['--max-semi-space-size=1', '--import', loader, child, algorithm, String(count)], {
        cwd: root,
        timeout: 240_000,
        killSignal: 'SIGKILL',
      });
      expect(Number(stdout.trim())).toBe(count);
    }, 300_000);
  }
});
