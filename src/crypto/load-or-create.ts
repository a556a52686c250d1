/**
 * loadOrCreateIdentity: the one call a program needs to keep its HIT across runs.
 * @module
 */
import { HipError, HipIdentityError } from '../errors.js';
import { HostIdentity, type GenerateIdentityOptions } from './identity.js';

/**
 * Load the identity saved in `path`, or, when there is no such file, generate one and save it
 * there (PKCS#8 PEM, created with mode 0600, never overwriting). Two processes racing to create
 * the same file end up with the same identity: the loser loads the winner's key.
 *
 * An existing key file is used as it is, with the checks of {@link HostIdentity.load} (a file
 * others may read is refused). With `options.algorithm`, an existing key of another algorithm
 * is refused rather than silently used.
 *
 * @throws HipIdentityError as {@link HostIdentity.load} and {@link HostIdentity.save} do, and
 *   `ERR_IDENTITY_ALGORITHM_MISMATCH` when the saved key is not of `options.algorithm`.
 * @example
 * ```ts
 * const identity = await loadOrCreateIdentity('host.pem');
 * const host = await createHost({ identity });
 * console.log('my HIT, the same on every run:', host.hit);
 * ```
 */
export async function loadOrCreateIdentity(path: string, options: GenerateIdentityOptions = {}): Promise<HostIdentity> {
  let id: HostIdentity;
  try {
    id = await HostIdentity.load(path);
  } catch (e) {
    if (!(e instanceof HipError && e.code === 'ERR_IDENTITY_KEY_FILE_NOT_FOUND')) throw e;
    id = HostIdentity.generate(options);
    try {
      await id.save(path);
    } catch (saveError) {
      // Someone created the file since we looked: theirs is the identity of this path.
      if (!(saveError instanceof HipError && saveError.code === 'ERR_IDENTITY_KEY_FILE_EXISTS')) throw saveError;
      id = await HostIdentity.load(path);
    }
  }
  if (options.algorithm !== undefined && id.algorithm !== options.algorithm) {
    throw new HipIdentityError('ERR_IDENTITY_ALGORITHM_MISMATCH', `${path} holds an ${id.algorithm} key, not ${options.algorithm}`, {
      path,
      algorithm: id.algorithm,
      expected: options.algorithm,
    });
  }
  return id;
}
