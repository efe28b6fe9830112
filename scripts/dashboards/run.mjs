// `npm run dashboards`: compiles the generator (scripts/dashboards/*.ts) with the repo's own tsc
// into node_modules/.cache (so it resolves @grafana/grafana-foundation-sdk), then writes every
// generated file: deploy/grafana/dashboards/*.json and deploy/grafana/PANELS.md.
// `npm run dashboards -- --check` writes nothing and exits 1 when a committed file differs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const out = join(root, 'node_modules', '.cache', 'llm-governor-dashboards');

rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(here, 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });
const { generate, DASHBOARD_DIR } = require(join(out, 'index.js'));

const check = process.argv.includes('--check');
const files = generate();
let changed = 0;
for (const [path, content] of Object.entries(files)) {
  const target = join(root, path);
  const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  if (current === content) continue;
  changed++;
  if (check) {
    console.error(`out of date: ${path}`);
    continue;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}
// A dashboard no longer generated is removed (or, with --check, reported).
const dir = join(root, DASHBOARD_DIR);
for (const name of existsSync(dir) ? readdirSync(dir) : []) {
  const path = `${DASHBOARD_DIR}/${name}`;
  if (!name.endsWith('.json') || path in files) continue;
  changed++;
  if (check) {
    console.error(`not generated: ${path}`);
    continue;
  }
  rmSync(join(root, path));
  console.log(`removed ${path}`);
}
if (check && changed) {
  console.error('run `npm run dashboards` and commit the result');
  process.exit(1);
}
console.log(check ? `${Object.keys(files).length} generated files: up to date` : `${Object.keys(files).length} generated files, ${changed} changed`);
