#!/usr/bin/env node
/**
 * The `hipl` command: make identities, show HITs, and talk to a peer by HIT like netcat.
 * Exit codes are in exit-codes.ts and `hipl --help`.
 * @module
 */
import type { CliIo } from './io.js';
import { run } from './run.js';

/**
 * Node prints process warnings as "(node:PID) [CODE] Warning: ..."; print ours as the command's
 * other messages are, once each (the libhipl clear-text warning comes from the host).
 */
function printWarningsPlainly(): void {
  process.removeAllListeners('warning');
  const seen = new Set<string>();
  process.on('warning', (w) => {
    if (seen.has(w.message)) return;
    seen.add(w.message);
    process.stderr.write(`hipl: warning: ${w.message.replace(/^hipl: /, '')}\n`);
  });
}

function main(): void {
  printWarningsPlainly();
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
