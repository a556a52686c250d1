#!/usr/bin/env node
/**
 * The `hipl` command: make identities, show HITs, and talk to a peer by HIT like netcat.
 * Exit codes are in exit-codes.ts and `hipl --help`.
 * @module
 */
import type { CliIo } from './io.js';
import { run } from './run.js';

function main(): void {
  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupt());
  const io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, interrupted };
  void run(process.argv.slice(2), io).then((code) => {
    // Let what was written reach its reader, then leave without waiting for stdin.
    process.stdout.write('', () => process.exit(code));
  });
}

main();
