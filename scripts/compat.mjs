// The compatibility suite: packs llm-governor, installs the tarball into a fresh app folder for
// each openai major (4, 5, 6 on this Node; 7 on Node 24 from the npm registry's `node` package),
// then runs test/compat with vitest. Usage: node scripts/compat.mjs [majors, e.g. 4,7]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const root = join(repo, '.tmp', 'compat');
const majors = (process.argv[2] ?? '4,5,6,7').split(',').map(Number);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' } };

rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
console.log('compat: npm pack');
execFileSync(npm, ['pack', '--pack-destination', root], { cwd: repo, ...quiet });
const tarball = join(
  root,
  readdirSync(root).find((f) => f.endsWith('.tgz')),
);

const dirs = [];
for (const major of majors) {
  const dir = join(root, `openai-${major}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `compat-openai-${major}`, private: true }));
  const deps = [tarball, `openai@${major}`];
  if (major >= 7) deps.push('node@24');
  console.log(`compat: installing ${deps.map((d) => d.replace(root + '/', '')).join(' ')} into ${dir.replace(repo + '/', '')}`);
  execFileSync(npm, ['install', ...deps], { cwd: dir, ...quiet });
  dirs.push(dir);
}

execFileSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.compat.config.mts'], {
  cwd: repo,
  stdio: 'inherit',
  env: { ...process.env, COMPAT_DIRS: dirs.join(':') },
});
