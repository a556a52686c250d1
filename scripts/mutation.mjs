#!/usr/bin/env node
// `npm run mutation -- <area> [more stryker options]`: mutation testing of one area at a time,
// niced, one test process. `npm run mutation -- all` runs every area in turn; no area lists them.
import { spawnSync } from 'node:child_process';
import { mutationAreas } from './mutation-areas.mjs';

const [first, ...rest] = process.argv.slice(2);
if (!first || first === '--help' || first === '-h') {
  console.log('usage: npm run mutation -- <area|all> [stryker options, e.g. --force]\nareas:');
  for (const [name, a] of Object.entries(mutationAreas)) console.log(`  ${name.padEnd(7)} ${a.about}`);
  process.exit(first ? 0 : 2);
}
const names = first === 'all' ? Object.keys(mutationAreas) : [first];
for (const name of names) {
  if (!mutationAreas[name]) {
    console.error(`unknown area "${name}"; one of: ${Object.keys(mutationAreas).join(', ')}, all`);
    process.exit(2);
  }
}
for (const name of names) {
  console.log(`\n== mutation testing: ${name} (${mutationAreas[name].about})`);
  const cmd = process.platform === 'win32' ? ['npx', 'stryker', 'run'] : ['nice', '-n', '10', 'npx', 'stryker', 'run'];
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...rest], {
    stdio: 'inherit',
    env: { ...process.env, HIPL_MUTATION_AREA: name },
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
