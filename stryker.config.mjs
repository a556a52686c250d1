// StrykerJS configuration for `npm run mutation -- <area>` (see README "Mutation testing").
// One area is mutated per run so a run fits on a small machine; scripts/mutation.mjs picks the
// area through HIPL_MUTATION_AREA. Not part of `npm test` or CI.
import { mutationAreas } from './scripts/mutation-areas.mjs';

const name = process.env.HIPL_MUTATION_AREA ?? 'esp';
const area = mutationAreas[name];
if (!area) throw new Error(`unknown mutation area "${name}"; one of: ${Object.keys(mutationAreas).join(', ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Only the mutants a test reaches are run, and only against the tests that reach them.
  coverageAnalysis: 'perTest',
  mutate: area.mutate,
  testFiles: area.tests,
  // The machine is shared: one test process, one checker.
  concurrency: 1,
  // Mutants that only run at module load (constant tables) would need a fresh process each;
  // they are reported as "ignored" instead of slowing every run down.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ['dist', 'docs', 'coverage', 'build-tsc', 'reports', '.scratch'],
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
