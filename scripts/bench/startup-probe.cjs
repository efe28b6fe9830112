'use strict';
/**
 * The start-up measurement's reporter (scripts/bench/lib/startup.mjs): `--require`d LAST, after
 * the preload being measured, so that it changes nothing the preload does. At exit it prints one
 * line: the process's peak RSS (`process.resourceUsage().maxRSS`, KiB), when the preloads had
 * been loaded and when the process exited (ms since the process started).
 */
const { performance } = require('node:perf_hooks');
const { writeSync } = require('node:fs');

const preloadedMs = performance.now();
process.on('exit', () => {
  const report = { maxRssKiB: process.resourceUsage().maxRSS, preloadedMs, exitMs: performance.now() };
  writeSync(1, `\n@@bench-startup ${JSON.stringify(report)}\n`);
});
