/**
 * `hipl keygen` and `hipl hit`: make a host identity, and show the HIT of one.
 * @module
 */
import { parseArgs } from 'node:util';
import { HostIdentity, type IdentityAlgorithm } from '../crypto/identity.js';
import { parsePrivateKeyPem, privateKeyToPem } from '../crypto/keyfile.js';
import { HipError } from '../errors.js';
import { CliError, ExitCode } from './exit-codes.js';
import { readAll, say, type CliIo } from './io.js';

const ALGOS: Readonly<Record<string, IdentityAlgorithm>> = { p256: 'ecdsa-p256', p384: 'ecdsa-p384', rsa: 'rsa', ed25519: 'ed25519' };

/** `hipl keygen [--algo p256|p384|rsa|ed25519] [--bits N] [--out FILE] [--force]`. */
export async function keygen(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { algo: { type: 'string', default: 'p256' }, bits: { type: 'string' }, out: { type: 'string', short: 'o' }, force: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  const algorithm = ALGOS[values.algo];
  if (!algorithm) throw new CliError(ExitCode.USAGE, `--algo: one of ${Object.keys(ALGOS).join(', ')}, not ${values.algo}`);
  if (values.bits !== undefined && algorithm !== 'rsa') throw new CliError(ExitCode.USAGE, '--bits applies to --algo rsa only');
  const rsaBits = values.bits === undefined ? 2048 : Number(values.bits);
  if (!Number.isInteger(rsaBits) || rsaBits < 1024 || rsaBits > 8192 || rsaBits % 8 !== 0) {
    throw new CliError(ExitCode.USAGE, `--bits: a multiple of 8 from 1024 to 8192, not ${values.bits}`);
  }
  const id = HostIdentity.generate({ algorithm, rsaBits });
  if (values.out === undefined) {
    io.stdout.write(privateKeyToPem(id.privateKey));
    say(io, `HIT ${id.hitString()}${algorithm === 'rsa' ? ` (HIPv1 ${id.hitString(1)})` : ''}`);
    return ExitCode.OK;
  }
  try {
    await id.save(values.out, { overwrite: values.force === true });
  } catch (e) {
    if (e instanceof HipError && e.code === 'ERR_IDENTITY_KEY_FILE_EXISTS') throw new CliError(ExitCode.IDENTITY, `${values.out} exists; use --force to replace it`);
    throw e;
  }
  io.stdout.write(`${id.hitString()}\n`);
  say(io, `wrote ${values.algo} key to ${values.out} (mode 0600)`);
  return ExitCode.OK;
}

/** Load the identity a command uses: a key file, '-' for stdin, or `HIPL_KEY`; undefined if none. */
export async function loadIdentity(path: string | undefined, io: CliIo): Promise<HostIdentity | undefined> {
  const file = path ?? io.env.HIPL_KEY;
  if (file === undefined || file === '') return undefined;
  if (file === '-') return HostIdentity.fromPrivateKey(parsePrivateKeyPem(await readAll(io.stdin), 'standard input'));
  return HostIdentity.load(file);
}

/** `hipl hit [KEYFILE|-] [--libhipl-cleartext]`. */
export async function hit(args: string[], io: CliIo): Promise<number> {
  const { values: raw, positionals } = parseArgs({ args, options: { 'libhipl-cleartext': { type: 'boolean' }, v1: { type: 'boolean' } }, strict: true, allowPositionals: true });
  // --v1: the old name of --libhipl-cleartext, still accepted.
  const values = { v1: raw['libhipl-cleartext'] === true || raw.v1 === true };
  if (positionals.length > 1) throw new CliError(ExitCode.USAGE, 'hit takes one key file');
  const id = await loadIdentity(positionals[0], io);
  if (!id) throw new CliError(ExitCode.USAGE, 'no key: give a key file (or - for standard input), or set HIPL_KEY');
  if (values.v1 && id.algorithm !== 'rsa') throw new CliError(ExitCode.IDENTITY, `libhipl (HIPv1) HITs need an RSA key, this one is ${id.algorithm}`);
  io.stdout.write(`${id.hitString(values.v1 ? 1 : 2)}\n`);
  return ExitCode.OK;
}
