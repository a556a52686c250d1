/**
 * `hipl rvs` and `hipl relay`: run a rendezvous server (RFC 8004), with `--relay` (or as `hipl
 * relay`) also a HIP relay (RFC 9028: control and data relay), for whitelisted clients, logging
 * each registration and refusal, until interrupted; then print its counters.
 * @module
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { createRelay } from '../relay/server.js';
import { loadWhitelist } from '../relay/whitelist.js';
import { HipError } from '../errors.js';
import { CliError, ExitCode } from './exit-codes.js';
import { say, type CliIo } from './io.js';
import { loadIdentity } from './keys.js';
import { parsePort } from './target.js';

/**
 * `hipl rvs --whitelist FILE | --open [--port N] [--address IP] [--key FILE]
 * [--min-lifetime S] [--max-lifetime S] [--rate N] [--relay] [--relay-bytes N]`.
 */
export async function rvs(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      port: { type: 'string', short: 'p' },
      address: { type: 'string', short: 'a' },
      key: { type: 'string', short: 'k' },
      whitelist: { type: 'string', short: 'w' },
      open: { type: 'boolean' },
      'min-lifetime': { type: 'string' },
      'max-lifetime': { type: 'string' },
      rate: { type: 'string' },
      relay: { type: 'boolean' },
      'relay-bytes': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new CliError(ExitCode.USAGE, `rvs takes no arguments, got ${positionals.join(' ')}`);
  if ((values.whitelist === undefined) === (values.open !== true)) {
    throw new CliError(ExitCode.USAGE, 'give --whitelist FILE (HITs allowed to register), or --open to serve every host');
  }
  if (values['relay-bytes'] !== undefined && !values.relay) throw new CliError(ExitCode.USAGE, '--relay-bytes limits the relay: add --relay (or run hipl relay)');
  if (values.address !== undefined && isIP(values.address) === 0) throw new CliError(ExitCode.USAGE, `--address: not an IP address: ${values.address}`);
  const seconds = (name: 'min-lifetime' | 'max-lifetime' | 'rate' | 'relay-bytes', dflt: number): number => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n > 0)) throw new CliError(ExitCode.USAGE, `--${name}: a positive whole number, not ${v}`);
    return n;
  };
  let whitelist: string[] | 'any' = 'any';
  if (values.whitelist !== undefined) {
    try {
      whitelist = loadWhitelist(values.whitelist);
    } catch (e) {
      throw new CliError(ExitCode.USAGE, e instanceof HipError ? e.message : `--whitelist: ${(e as Error).message}`);
    }
  }
  const identity = await loadIdentity(values.key, io);
  const server = await createRelay({
    ...(identity ? { identity } : {}),
    ...(values.address !== undefined ? { address: values.address } : {}),
    port: values.port === undefined ? 10500 : parsePort(values.port, '--port', 0),
    whitelist,
    minLifetime: seconds('min-lifetime', 60),
    maxLifetime: seconds('max-lifetime', 3600),
    forwardPerSecond: seconds('rate', 20),
    ...(values.relay ? { relay: { espBytesPerSecond: seconds('relay-bytes', 4_000_000) } } : {}),
    log: (line) => say(io, line),
  });
  say(io, `${values.relay ? 'rendezvous server and HIP relay' : 'rendezvous server'} ${server.hit} on udp ${server.address.address}:${server.address.port}, ${whitelist === 'any' ? 'open to every host' : `${whitelist.length} whitelisted HIT(s)`}`);
  io.stdout.write(`${server.hit}\n`);
  await (io.interrupted ?? new Promise<void>(() => undefined));
  const s = server.stats();
  say(io, `stopping: ${s.clients} client(s), ${s.granted} registration(s), ${s.refused} refused, ${s.forwarded} I1(s) forwarded, ${s.rateLimited} rate-limited, ${s.notRegistered} for unknown HITs${values.relay ? `; relayed ${s.controlToClient + s.controlFromClient} control packet(s), ${s.espPackets} ESP packet(s) (${s.espBytes} bytes), ${s.espRateLimited} over the byte limit` : ''}`);
  await server.close();
  return ExitCode.INTERRUPTED;
}
