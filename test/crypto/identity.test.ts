import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/bytes.js';
import { HipArgumentError, HipIdentityError } from '../../src/errors.js';
import { HostIdentity, loadPublicIdentity, type IdentityAlgorithm } from '../../src/crypto/identity.js';
import { computeHit, computeHitV1, formatHit, hitSuite, hitVersion } from '../../src/crypto/hit.js';
import { parsePrivateKeyPem } from '../../src/crypto/keyfile.js';
import type { PrivateKeyMaterial } from '../../src/crypto/keys.js';

const isWindows = process.platform === 'win32';
let dir: string;
let counter = 0;
const tmp = (name: string) => join(dir, `${counter++}-${name}`);

beforeAll(() => {
  dir = fs.mkdtempSync(join(os.tmpdir(), 'hipl-identity-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function codeOfAsync(f: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const b64u = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));
const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** P-256 / P-384 keys with d = 1: their HITs are the HIP-DIGEST 3 vectors. */
function ecD1(curve: 'P-256' | 'P-384'): PrivateKeyMaterial {
  const size = curve === 'P-256' ? 32 : 48;
  const d = new Uint8Array(size);
  d[size - 1] = 1;
  const point = (curve === 'P-256' ? p256 : p384).Point.BASE.toBytes(false);
  return { kind: 'ecdsa', curve, point, d };
}

describe('known-answer identities', () => {
  it('P-256 d = 1 → 2001:22:f482:7b66:edea:73a8:1796:b6', () => {
    const id = HostIdentity.fromPrivateKey(ecD1('P-256'));
    expect(id.algorithm).toBe('ecdsa-p256');
    expect(id.hitSuite).toBe(2);
    expect(id.hitString()).toBe('2001:22:f482:7b66:edea:73a8:1796:b6');
    expect(id.hostIdentity()).toEqual({ algorithm: 7, hostIdentity: concatBytes(hexToBytes('0001'), p256.Point.BASE.toBytes(false)) });
  });

  it('P-384 d = 1 → 2001:22:fa11:1755:9b40:ee42:9793:f282', () => {
    const id = HostIdentity.fromPrivateKey(ecD1('P-384'));
    expect(id.algorithm).toBe('ecdsa-p384');
    expect(id.hitString(2)).toBe('2001:22:fa11:1755:9b40:ee42:9793:f282');
  });

  it('Ed25519 RFC 8032 test 1 key pair is accepted; a wrong public key is refused', () => {
    const seed = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const publicKey = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const id = HostIdentity.fromPrivateKey({ kind: 'ed25519', seed, publicKey });
    expect(id.algorithm).toBe('ed25519');
    expect(id.hitSuite).toBe(5);
    expect(bytesToHex(id.hostIdentity().hostIdentity)).toBe(`0001${bytesToHex(publicKey)}`);
    expect(hitSuite(id.hit())).toBe(5);
    // RFC 8032 test 2's public key: a valid point, but not this seed's.
    const test2 = hexToBytes('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    expect(codeOf(() => HostIdentity.fromPrivateKey({ kind: 'ed25519', seed, publicKey: test2 }))).toBe('ERR_IDENTITY_BAD_KEY');
  });

  it('refuses mismatched or malformed material with a typed error', () => {
    const a = ecD1('P-256');
    const d2 = new Uint8Array(32);
    d2[31] = 2;
    expect(codeOf(() => HostIdentity.fromPrivateKey({ ...a, d: d2 } as PrivateKeyMaterial))).toBe('ERR_IDENTITY_BAD_KEY');
    expect(codeOf(() => HostIdentity.fromPrivateKey({ kind: 'ecdsa', curve: 'P-256' } as unknown as PrivateKeyMaterial))).toBe(
      'ERR_IDENTITY_BAD_KEY',
    );
    expect(codeOf(() => HostIdentity.fromPrivateKey(null as unknown as PrivateKeyMaterial))).toBe('ERR_IDENTITY_BAD_KEY');
    expect(codeOf(() => HostIdentity.fromPrivateKey({ kind: 'dsa' } as unknown as PrivateKeyMaterial))).toBe('ERR_IDENTITY_BAD_KEY');
    const rsa = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }).privateKey;
    const other = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }).privateKey;
    expect(codeOf(() => HostIdentity.fromPrivateKey({ ...rsa, n: (other as { n: Uint8Array }).n } as PrivateKeyMaterial))).toBe(
      'ERR_IDENTITY_BAD_KEY',
    );
  });
});

describe('generate', () => {
  const cases: Array<[IdentityAlgorithm, number, number]> = [
    ['ecdsa-p256', 2, 7],
    ['ecdsa-p384', 2, 7],
    ['rsa', 1, 5],
    ['ed25519', 5, 13],
  ];
  for (const [algorithm, suite, hiAlg] of cases) {
    it(`${algorithm}: HIT suite ${suite}, HIT matches an independent recomputation`, () => {
      const id = HostIdentity.generate({ algorithm, rsaBits: 1024 });
      expect(id.algorithm).toBe(algorithm);
      expect(id.hitSuite).toBe(suite);
      const hit = id.hit();
      expect(hitVersion(hit)).toBe(2);
      expect(hitSuite(hit)).toBe(suite);
      const { algorithm: a, hostIdentity } = id.hostIdentity(2);
      expect(a).toBe(hiAlg);
      expect(bytesToHex(hit)).toBe(bytesToHex(computeHit(hostIdentity, suite)));
      // Peer side: the HOST_ID gives back the same key and HIT.
      const peer = loadPublicIdentity(a, hostIdentity, 2);
      expect(peer.publicKey).toEqual(id.publicKey);
      expect(bytesToHex(peer.hit)).toBe(bytesToHex(hit));
    });
  }

  it('default is ECDSA P-256', () => {
    expect(HostIdentity.generate().algorithm).toBe('ecdsa-p256');
  });

  it('RSA: v1 HIT from the RFC 3110 key field built from node’s own n and e', () => {
    const id = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const jwk = createPublicKey(id.publicKeyPem()).export({ format: 'jwk' });
    const keyField = concatBytes(Uint8Array.of(3), b64u(jwk.e), b64u(jwk.n));
    expect(bytesToHex(id.hostIdentity(1).hostIdentity)).toBe(bytesToHex(keyField));
    expect(formatHit(id.hit(1))).toBe(formatHit(computeHitV1(keyField)));
    expect(id.hitString(1)).toMatch(/^2001:1[0-9a-f]:/);
    expect(hitVersion(id.hit(1))).toBe(1);
    const peer = loadPublicIdentity(5, keyField, 1);
    expect(bytesToHex(peer.hit)).toBe(bytesToHex(id.hit(1)));
    // The default RSA size is 2048 bits.
    expect(b64u(createPublicKey(HostIdentity.generate({ algorithm: 'rsa' }).publicKeyPem()).export({ format: 'jwk' }).n).length).toBe(256);
  });

  it('v1 HITs exist only for RSA', () => {
    const id = HostIdentity.generate({ algorithm: 'ecdsa-p384' });
    expect(codeOf(() => id.hit(1))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(codeOf(() => id.hostIdentity(1))).toBe('ERR_IDENTITY_UNSUPPORTED');
  });

  it('cached values cannot be corrupted through returned arrays', () => {
    const id = HostIdentity.generate();
    const first = id.hitString();
    id.hit().fill(0);
    id.hostIdentity().hostIdentity.fill(0);
    expect(id.hitString()).toBe(first);
    expect(id.hostIdentity().hostIdentity[2]).toBe(4);
  });

  it('keeps its own copy of the key material', () => {
    const m = ecD1('P-256');
    const id = HostIdentity.fromPrivateKey(m);
    if (m.kind === 'ecdsa') m.point.fill(0);
    expect(id.hitString()).toBe('2001:22:f482:7b66:edea:73a8:1796:b6');
    expect(id.publicKey.kind === 'ecdsa' && id.publicKey.point[0]).toBe(4);
  });

  it('refuses bad options', () => {
    expect(() => HostIdentity.generate({ algorithm: 'dsa' as IdentityAlgorithm })).toThrow(HipArgumentError);
    for (const rsaBits of [512, 1000, 1023, 16384, 2048.5, Number.NaN]) {
      expect(codeOf(() => HostIdentity.generate({ algorithm: 'rsa', rsaBits }))).toBe('ERR_HIP_INVALID_ARGUMENT');
    }
  });

  it('never shows the private key in JSON or util.inspect', () => {
    const id = HostIdentity.fromPrivateKey(ecD1('P-256'));
    expect(JSON.parse(JSON.stringify(id))).toEqual({ algorithm: 'ecdsa-p256', hit: '2001:22:f482:7b66:edea:73a8:1796:b6' });
    expect(inspect(id)).not.toMatch(/\bd\b|Uint8Array/);
    expect(inspect(id)).toContain('2001:22:f482:7b66:edea:73a8:1796:b6');
  });

  it('publicKeyPem is SPKI and carries the same key', () => {
    const id = HostIdentity.fromPrivateKey(ecD1('P-256'));
    const pem = id.publicKeyPem();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const jwk = createPublicKey(pem).export({ format: 'jwk' });
    expect(bytesToHex(b64u(jwk.x))).toBe('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296');
  });
});

describe('save / load', () => {
  for (const algorithm of ['ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519'] as const) {
    it(`${algorithm}: save → load gives the same HIT; file is PKCS#8 with mode 0600`, async () => {
      const id = HostIdentity.generate({ algorithm, rsaBits: 1024 });
      const path = tmp(`${algorithm}.pem`);
      await id.save(path);
      if (!isWindows) expect(mode(path)).toBe(0o600);
      expect(fs.readFileSync(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const loaded = await HostIdentity.load(path);
      expect(loaded.hitString()).toBe(id.hitString());
      expect(loaded.privateKey).toEqual(id.privateKey);
      const loadedSync = HostIdentity.loadSync(path);
      expect(loadedSync.hitString()).toBe(id.hitString());
    });
  }

  it('saveSync and the v1 HIT survive a round trip', () => {
    const id = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const path = tmp('rsa-sync.pem');
    id.saveSync(path);
    if (!isWindows) expect(mode(path)).toBe(0o600);
    expect(HostIdentity.loadSync(path).hitString(1)).toBe(id.hitString(1));
  });

  it.skipIf(isWindows)('creates the file 0600 even with umask 0 (mode given to open, not chmod)', async () => {
    const old = process.umask(0);
    try {
      const a = tmp('umask0-async.pem');
      const b = tmp('umask0-sync.pem');
      const c = tmp('umask0-over.pem');
      await HostIdentity.generate().save(a);
      HostIdentity.generate().saveSync(b);
      fs.writeFileSync(c, 'old');
      await HostIdentity.generate().save(c, { overwrite: true });
      expect([mode(a), mode(b), mode(c)]).toEqual([0o600, 0o600, 0o600]);
    } finally {
      process.umask(old);
    }
  });

  it('refuses to replace an existing file unless asked, and overwriting never reuses a loose mode', async () => {
    const path = tmp('exists.pem');
    fs.writeFileSync(path, 'not a key', { mode: 0o644 });
    const id = HostIdentity.generate();
    expect(await codeOfAsync(() => id.save(path))).toBe('ERR_IDENTITY_KEY_FILE_EXISTS');
    expect(codeOf(() => id.saveSync(path))).toBe('ERR_IDENTITY_KEY_FILE_EXISTS');
    expect(fs.readFileSync(path, 'utf8')).toBe('not a key');
    await id.save(path, { overwrite: true });
    if (!isWindows) expect(mode(path)).toBe(0o600);
    expect((await HostIdentity.load(path)).hitString()).toBe(id.hitString());
    const id2 = HostIdentity.generate();
    id2.saveSync(path, { overwrite: true });
    expect(HostIdentity.loadSync(path).hitString()).toBe(id2.hitString());
    // No temporary files are left behind.
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it.skipIf(isWindows)('refuses private key files readable or writable by group or others', async () => {
    const id = HostIdentity.generate();
    for (const m of [0o644, 0o640, 0o604, 0o620, 0o602, 0o660]) {
      const path = tmp(`loose-${m.toString(8)}.pem`);
      await id.save(path);
      fs.chmodSync(path, m);
      expect(await codeOfAsync(() => HostIdentity.load(path))).toBe('ERR_IDENTITY_INSECURE_KEY_FILE');
      expect(codeOf(() => HostIdentity.loadSync(path))).toBe('ERR_IDENTITY_INSECURE_KEY_FILE');
      expect(() => HostIdentity.loadSync(path)).toThrow(HipIdentityError);
    }
    const ok = tmp('owner-readonly.pem');
    await id.save(ok);
    fs.chmodSync(ok, 0o400);
    expect((await HostIdentity.load(ok)).hitString()).toBe(id.hitString());
  });

  it('loads PKCS#1 RSA and SEC1 EC PEM files', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsaPath = tmp('pkcs1.pem');
    const ecPath = tmp('sec1.pem');
    const rsaPem = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const ecPem = ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect(rsaPem).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(ecPem).toMatch(/BEGIN EC PRIVATE KEY/);
    fs.writeFileSync(rsaPath, rsaPem, { mode: 0o600 });
    fs.writeFileSync(ecPath, ecPem, { mode: 0o600 });
    const rsaId = await HostIdentity.load(rsaPath);
    const rjwk = rsa.publicKey.export({ format: 'jwk' });
    expect(rsaId.hitString(1)).toBe(formatHit(computeHitV1(concatBytes(Uint8Array.of(3), b64u(rjwk.e), b64u(rjwk.n)))));
    const ecId = HostIdentity.loadSync(ecPath);
    const ejwk = ec.publicKey.export({ format: 'jwk' });
    const hi = concatBytes(hexToBytes('000204'), b64u(ejwk.x), b64u(ejwk.y));
    expect(ecId.hitString()).toBe(formatHit(computeHit(hi, 2)));
  });

  it('malformed, public, encrypted or unsupported PEM gives typed errors', async () => {
    const write = (name: string, text: string) => {
      const p = tmp(name);
      fs.writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const good = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const lines = good.trim().split('\n');
    const cases: Array<[string, string, string]> = [
      ['empty', '', 'ERR_IDENTITY_BAD_KEY_FILE'],
      ['garbage', 'hello world\n', 'ERR_IDENTITY_BAD_KEY_FILE'],
      ['truncated', `${lines.slice(0, 2).join('\n')}\n${lines[lines.length - 1]}\n`, 'ERR_IDENTITY_BAD_KEY_FILE'],
      ['bad-base64', '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n', 'ERR_IDENTITY_BAD_KEY_FILE'],
      ['public', ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ERR_IDENTITY_BAD_KEY_FILE'],
      [
        'encrypted',
        ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }).toString(),
        'ERR_IDENTITY_BAD_KEY_FILE',
      ],
      [
        'p521',
        generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'ERR_IDENTITY_UNSUPPORTED',
      ],
      [
        'secp256k1',
        generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'ERR_IDENTITY_UNSUPPORTED',
      ],
      [
        'ed448',
        generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'ERR_IDENTITY_UNSUPPORTED',
      ],
    ];
    for (const [name, text, code] of cases) {
      const p = write(`${name}.pem`, text);
      expect(await codeOfAsync(() => HostIdentity.load(p)), name).toBe(code);
      expect(codeOf(() => HostIdentity.loadSync(p)), name).toBe(code);
      expect(codeOf(() => parsePrivateKeyPem(text)), name).toBe(code);
    }
    expect(await codeOfAsync(() => HostIdentity.load(join(dir, 'missing.pem')))).toBe('ERR_IDENTITY_KEY_FILE_NOT_FOUND');
    expect(codeOf(() => HostIdentity.loadSync(join(dir, 'missing.pem')))).toBe('ERR_IDENTITY_KEY_FILE_NOT_FOUND');
    const sub = tmp('a-directory');
    fs.mkdirSync(sub, { mode: 0o700 });
    expect(await codeOfAsync(() => HostIdentity.load(sub))).toBe('ERR_IDENTITY_KEY_FILE_IO');
    expect(await codeOfAsync(() => HostIdentity.generate().save(join(dir, 'no-such-dir', 'k.pem')))).toBe(
      'ERR_IDENTITY_KEY_FILE_NOT_FOUND',
    );
  });
});
