// The package as a user installs it: `npm pack` of this repository's build, installed with the
// real dependencies npm resolves today (not this repository's lock file) into an app folder of
// its own. Duplicate copies of OpenTelemetry packages, a missing file in `files`, a dependency
// only present in devDependencies: all show up here and nowhere else.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './run-app';

const ROOT = join(REPO, '.tmp', 'packed');

/** A hash of what `npm pack` would ship: package.json and everything under dist/ and data/. */
function buildHash(): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(REPO, 'package.json')));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p.slice(REPO.length)).update(readFileSync(p));
    }
  };
  walk(join(REPO, 'dist'));
  walk(join(REPO, 'data'));
  return h.digest('hex').slice(0, 12);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' } });

/**
 * An app folder with llm-governor installed from its tarball, plus `deps` (e.g. `openai@6`).
 * Built once per build of the package and set of deps, and shared by the test files that ask
 * for the same (a lock keeps parallel test files from installing twice). Returns its path.
 */
export function packedApp(deps: string[]): string {
  const key = createHash('sha256').update(buildHash()).update(deps.join(' ')).digest('hex').slice(0, 12);
  const dir = join(ROOT, key);
  const ready = join(dir, '.ready');
  if (existsSync(ready)) return dir;
  mkdirSync(ROOT, { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(ready)) return dir;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      sleepSync(250);
    }
  }
  try {
    if (existsSync(ready)) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // --ignore-scripts: dist/ is already built (npm test builds first); never rebuild under running tests.
    const tarball = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], REPO).toString().trim().split('\n').pop()!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `packed-${key}`, private: true }));
    npm(['install', '--no-package-lock', join(dir, tarball), ...deps], dir);
    writeFileSync(ready, new Date().toISOString());
    return dir;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
