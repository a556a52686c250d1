/**
 * Command dispatch of `hipl`, apart from the process wiring in main.ts so tests can run it in
 * process.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HipError } from '../errors.js';
import { CliError, ExitCode, exitCodeOf } from './exit-codes.js';
import { say, type CliIo } from './io.js';
import { hit, keygen } from './keys.js';
import { rvs } from './rvs.js';
import { connect, listen } from './session.js';
import { USAGE } from './usage.js';

const COMMANDS: Readonly<Record<string, (args: string[], io: CliIo) => Promise<number>>> = {
  keygen,
  hit,
  listen,
  connect,
  rvs,
  // `hipl relay` is `hipl rvs --relay`: one server, both services.
  relay: (args, io) => rvs(['--relay', ...args], io),
};

/**
 * Our package.json's version. Looked up from this module's own file (src/cli/, or a bundled
 * chunk in dist/), not from argv[1], which is node_modules/.bin/hipl once installed.
 */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hipl' && pkg.version) return pkg.version;
    } catch {
      // No package.json here (or not ours): look one level up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** Run `hipl` with `argv` (without node and the script); resolves the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (command === '--version' || command === '-V') {
    io.stdout.write(`${version()}\n`);
    return ExitCode.OK;
  }
  const cmd = COMMANDS[command];
  if (!cmd) {
    say(io, `unknown command '${command}' (try hipl --help)`);
    return ExitCode.USAGE;
  }
  try {
    return await cmd(args, io);
  } catch (e) {
    const code = e instanceof CliError ? e.exitCode : isUsage(e) ? ExitCode.USAGE : exitCodeOf(e);
    say(io, e instanceof HipError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e));
    if (code === ExitCode.USAGE) say(io, `usage: see hipl --help`);
    return code;
  }
}

/** node:util parseArgs errors (unknown option, missing value). */
function isUsage(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
