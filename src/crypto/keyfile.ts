/**
 * Private key files: PEM text in and out, and reading and writing it on disk without ever
 * exposing the key to other users. Node-only (node:fs, node:crypto).
 *
 * A key file is created with mode 0600 from the first byte on (the mode is given to `open`,
 * never fixed with `chmod` afterwards), and one readable or writable by group or others is
 * refused on load, as ssh does, because such a key may already be in someone else's hands.
 * @module
 */

import { createPrivateKey, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HipError, HipIdentityError } from '../errors.js';
import { materialToKeyObject, materialToPublicKeyObject, privateKeyObjectToMaterial } from './key-convert.js';
import type { PrivateKeyMaterial, PublicKeyMaterial } from './keys.js';

/** Options for writing a private key file. */
export interface WriteKeyFileOptions {
  /**
   * Replace an existing file. The new key is written to a fresh 0600 file next to it and
   * renamed over it, so the old file's (possibly looser) mode is never reused.
   * Default false: refuse with `ERR_IDENTITY_KEY_FILE_EXISTS`.
   */
  overwrite?: boolean;
}

/** Largest key file we read: a 16384-bit RSA PKCS#8 PEM is about 13 kB. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

const isWindows = process.platform === 'win32';

function fsError(e: unknown, path: string, action: string): HipIdentityError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const details = { path, cause: code ?? String(e) };
  if (code === 'ENOENT' && action === 'create') {
    return new HipIdentityError('ERR_IDENTITY_KEY_FILE_NOT_FOUND', `cannot create key file ${path}: directory ${dirname(path)} does not exist`, details);
  }
  if (code === 'ENOENT') return new HipIdentityError('ERR_IDENTITY_KEY_FILE_NOT_FOUND', `no key file at ${path}`, details);
  if (code === 'EEXIST') {
    return new HipIdentityError('ERR_IDENTITY_KEY_FILE_EXISTS', `${path} exists; pass { overwrite: true } to replace it`, details);
  }
  return new HipIdentityError('ERR_IDENTITY_KEY_FILE_IO', `cannot ${action} key file ${path}: ${code ?? String(e)}`, details);
}

function checkStat(st: fs.Stats, path: string): void {
  if (!st.isFile()) {
    throw new HipIdentityError('ERR_IDENTITY_KEY_FILE_IO', `${path} is not a regular file`, { path });
  }
  if (!isWindows && (st.mode & 0o077) !== 0) {
    throw new HipIdentityError(
      'ERR_IDENTITY_INSECURE_KEY_FILE',
      `private key file ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); ` +
        `run chmod 600 on it, and consider the key compromised if others could read it`,
      { path, mode: st.mode & 0o777 },
    );
  }
  if (st.size > MAX_KEY_FILE_BYTES) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY_FILE', `${path} is too large to be a key file`, {
      path,
      size: st.size,
    });
  }
}

/**
 * Parse a PEM private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
 * (`EC PRIVATE KEY`), for P-256, P-384, RSA or Ed25519. Encrypted keys are not supported.
 *
 * @throws HipIdentityError `ERR_IDENTITY_BAD_KEY_FILE` for text that is not an unencrypted
 *   private key PEM, `ERR_IDENTITY_UNSUPPORTED` for other key types or curves.
 * @example
 * ```ts
 * const key = parsePrivateKeyPem(fs.readFileSync('host.pem', 'utf8'));
 * ```
 */
export function parsePrivateKeyPem(pem: string | Uint8Array, source = 'PEM text'): PrivateKeyMaterial {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('utf8');
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (label === undefined) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY_FILE', `${source} holds no PEM block`, { source });
  }
  if (label.includes('ENCRYPTED') || /Proc-Type:\s*4,\s*ENCRYPTED/.test(text)) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY_FILE', `${source} holds an encrypted key; hipl needs it unencrypted`, {
      source,
      reason: 'encrypted',
    });
  }
  if (!label.endsWith('PRIVATE KEY')) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY_FILE', `${source} holds a ${label}, not a private key`, {
      source,
      label,
    });
  }
  let keyObject;
  try {
    keyObject = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    throw new HipIdentityError('ERR_IDENTITY_BAD_KEY_FILE', `${source} is not a valid private key PEM`, {
      source,
      cause: e instanceof Error ? e.message : String(e),
    });
  }
  try {
    return privateKeyObjectToMaterial(keyObject);
  } catch (e) {
    if (e instanceof HipError && e.code === 'ERR_CRYPTO_UNSUPPORTED') {
      throw new HipIdentityError('ERR_IDENTITY_UNSUPPORTED', `${source}: ${e.message}; use P-256, P-384, RSA or Ed25519`, {
        source,
        ...e.details,
      });
    }
    throw e;
  }
}

/** PKCS#8 PEM text of a private key. */
export function privateKeyToPem(key: PrivateKeyMaterial): string {
  return materialToKeyObject(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * SPKI PEM text (`PUBLIC KEY`) of a public key, or of the public half of a private key.
 *
 * @example
 * ```ts
 * fs.writeFileSync('host.pub.pem', publicKeyToPem(identity.publicKey));
 * ```
 */
export function publicKeyToPem(key: PublicKeyMaterial | PrivateKeyMaterial): string {
  return materialToPublicKeyObject(key).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Read and parse a private key file, refusing (except on Windows) a file whose mode lets group
 * or others read or write it. The mode is checked on the opened descriptor, so the file
 * checked is the file read.
 *
 * @throws HipIdentityError `ERR_IDENTITY_INSECURE_KEY_FILE`, `ERR_IDENTITY_KEY_FILE_NOT_FOUND`,
 *   `ERR_IDENTITY_KEY_FILE_IO`, or the errors of {@link parsePrivateKeyPem}.
 */
export async function readPrivateKeyFile(path: string): Promise<PrivateKeyMaterial> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, 'r');
  } catch (e) {
    throw fsError(e, path, 'open');
  }
  let text: string;
  try {
    let st: fs.Stats;
    try {
      st = await handle.stat();
    } catch (e) {
      throw fsError(e, path, 'stat');
    }
    checkStat(st, path);
    try {
      text = await handle.readFile({ encoding: 'utf8' });
    } catch (e) {
      throw fsError(e, path, 'read');
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return parsePrivateKeyPem(text, path);
}

/** Synchronous {@link readPrivateKeyFile}. */
export function readPrivateKeyFileSync(path: string): PrivateKeyMaterial {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw fsError(e, path, 'open');
  }
  let text: string;
  try {
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (e) {
      throw fsError(e, path, 'stat');
    }
    checkStat(st, path);
    try {
      text = fs.readFileSync(fd, { encoding: 'utf8' });
    } catch (e) {
      throw fsError(e, path, 'read');
    }
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing useful to do: the key was read or an error is already on its way.
    }
  }
  return parsePrivateKeyPem(text, path);
}

/** A name for the temporary file of an overwrite, in the target's directory so rename is atomic. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write PEM text to a new private key file created with mode 0600 (`open` flag `wx`, so an
 * existing file is never followed or truncated). With `{ overwrite: true }` the text goes to a
 * new 0600 file that is then renamed over `path`.
 *
 * @throws HipIdentityError `ERR_IDENTITY_KEY_FILE_EXISTS` or `ERR_IDENTITY_KEY_FILE_IO`.
 */
export async function writePrivateKeyFile(path: string, pem: string, options: WriteKeyFileOptions = {}): Promise<void> {
  const target = options.overwrite ? tempPathFor(path) : path;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(target, 'wx', 0o600);
  } catch (e) {
    throw fsError(e, path, 'create');
  }
  try {
    try {
      await handle.writeFile(pem, { encoding: 'utf8' });
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (target !== path) await fsp.rename(target, path);
  } catch (e) {
    await fsp.unlink(target).catch(() => undefined);
    throw fsError(e, path, 'write');
  }
}

/** Synchronous {@link writePrivateKeyFile}. */
export function writePrivateKeyFileSync(path: string, pem: string, options: WriteKeyFileOptions = {}): void {
  const target = options.overwrite ? tempPathFor(path) : path;
  let fd: number;
  try {
    fd = fs.openSync(target, 'wx', 0o600);
  } catch (e) {
    throw fsError(e, path, 'create');
  }
  try {
    try {
      fs.writeFileSync(fd, pem, { encoding: 'utf8' });
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (target !== path) fs.renameSync(target, path);
  } catch (e) {
    try {
      fs.unlinkSync(target);
    } catch {
      // The partial file may already be gone; the original error matters more.
    }
    throw fsError(e, path, 'write');
  }
}
