import { defineConfig } from 'tsup';

// One ESM build, no CommonJS copy: a second copy of every class would make `instanceof
// HipError` (and the libhipl API's process-wide state) differ between `import` and `require`
// users (the dual-package hazard). Node 20.19+ loads this ESM build from `require('hipl')`.
// Entries share chunks (splitting), so `hipl` and `hipl/wire` hold the same classes too.
const lib = {
  index: 'src/index.ts',
  wire: 'src/wire/index.ts',
  crypto: 'src/crypto/index.ts',
  esp: 'src/esp/index.ts',
  engine: 'src/core/index.ts',
  transport: 'src/transport/index.ts',
  host: 'src/host/index.ts',
};

export default defineConfig({
  // The library's entry points (package.json "exports"), and the `hipl` command
  // (package.json "bin": dist/cli/main.js, shebang kept).
  entry: { ...lib, 'cli/main': 'src/cli/main.ts' },
  format: ['esm'],
  splitting: true,
  // The declarations use Node's types (Duplex, Buffer ...): reference them, so a project whose
  // tsconfig lists no "types" (the default of recent TypeScript) still finds them.
  dts: { entry: lib, banner: '/// <reference types="node" />' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
