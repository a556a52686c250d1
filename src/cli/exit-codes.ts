/**
 * Exit codes of the `hipl` command, stable for scripts, and the error that carries one.
 * @module
 */
import { HipError } from '../errors.js';

/** What `hipl` exits with. */
export const ExitCode = Object.freeze({
  /** Done. */
  OK: 0,
  /** Bad command line: unknown command or option, missing or malformed argument, a `--pcap`/`--keylog` file that cannot be created. */
  USAGE: 1,
  /** The base exchange failed: timed out, refused by the peer, or the peer's identity did not match its HIT. */
  BEX_FAILED: 2,
  /** The key file could not be read, written or used. */
  IDENTITY: 3,
  /** A socket could not be bound or connected (address in use, connection refused ...). */
  NETWORK: 4,
  /** The association or stream ended abnormally (reset, closed while data was pending). */
  BROKEN: 5,
  /** Interrupted by SIGINT / SIGTERM (128 + 2). */
  INTERRUPTED: 130,
});

/** An error that ends the command with a given exit code and a message for a person. */
export class CliError extends Error {
  constructor(
    /** The exit code. */
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code for any error a command let through. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof HipError) {
    if (e.code.startsWith('ERR_IDENTITY')) return ExitCode.IDENTITY;
    if (e.code === 'ERR_HIP_BEX_FAILED' || e.code === 'ERR_HIP_ABORTED') return ExitCode.BEX_FAILED;
    if (e.code.startsWith('ERR_TRANSPORT') || e.code === 'ERR_HIP_NO_CARRIER') return ExitCode.NETWORK;
    if (e.code === 'ERR_HIP_CLOSED' || e.code === 'ERR_HIP_STREAM_RESET' || e.code === 'ERR_HIP_STREAM_REFUSED' || e.code.startsWith('ERR_STREAM')) return ExitCode.BROKEN;
    if (e.code.startsWith('ERR_HIP_INVALID') || e.code === 'ERR_HIP_NO_LOCATOR') return ExitCode.USAGE;
    if (e.code === 'ERR_PCAP_OPEN' || e.code === 'ERR_KEYLOG_OPEN' || e.code === 'ERR_HIP_BAD_OPTION') return ExitCode.USAGE;
  }
  return ExitCode.NETWORK;
}
