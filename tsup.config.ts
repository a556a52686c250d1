import { defineConfig } from 'tsup';

export default defineConfig({
  // The library, and the `hipl` command (package.json bin: dist/cli/main.js, shebang kept).
  entry: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
