/**
 * The streams and environment a `hipl` command works with, so commands run the same in the
 * real process and in tests.
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/** Where a command reads and writes. */
export interface CliIo {
  /** Data to send (connect/listen) or a PEM key (`hit -`). */
  stdin: Readable;
  /** Received data, keys, HITs. */
  stdout: Writable;
  /** Messages for a person. */
  stderr: Writable;
  /** Environment (`HIPL_KEY`). */
  env: Record<string, string | undefined>;
  /** Resolves when the command should stop (SIGINT/SIGTERM in the real process). */
  interrupted?: Promise<void>;
}

/** Write one line of a message for a person. */
export function say(io: CliIo, line: string): void {
  io.stderr.write(`hipl: ${line}\n`);
}

/** Read all of a stream as text. */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
