/**
 * The demo's live config change: once the forecast budget's projection has crossed, an operator
 * lowers its limit below what it has spent. With a private Redis, through the CLI's fleet push
 * (`llm-governor config push FILE --redis-url URL`), which the app applies by pub/sub; without
 * one, by rewriting the app's config file, which it watches. Then watches, from outside (the
 * app's stderr, its audit file, its /metrics), when the app applied it and what it refused after.
 */
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { FORECAST_BUDGET } from './config';

export interface LimitPushOptions {
  /** dist/cli/main.js */
  cli: string;
  configFile: string;
  /** The config file's text with the forecast budget's limit set to `limitUsd`. */
  configText: (limitUsd: number) => string;
  redisUrl?: string;
  limitUsd: number;
  /** The run's length, in seconds: the push comes after the crossing, from half-way on (at 85% at the latest). */
  seconds: number;
}

/** Two significant digits, rounded down: a limit at or below what was spent. */
function below(usd: number): number {
  if (!(usd > 0)) return 0.0001;
  const step = 10 ** (Math.floor(Math.log10(usd)) - 1);
  return Number((Math.floor(usd / step) * step).toPrecision(2));
}

export class LimitPush {
  crossing?: { atS: number; text: string };
  pushed?: { atS: number; wallMs: number; newLimitUsd: number; via: string; version?: string; rejectedBefore: number };
  applied?: { afterMs: number; message: string };
  private pushing = false;

  constructor(private readonly opts: LimitPushOptions) {}

  /** A line of the app's stderr (without the `llm-governor: ` prefix). */
  onLog(line: string, atS: number): void {
    if (!this.crossing && line.startsWith(`budget "${FORECAST_BUDGET}"`) && line.includes('is projected to spend')) this.crossing = { atS, text: line };
  }

  due(atS: number): boolean {
    return !this.pushing && ((!!this.crossing && atS >= this.opts.seconds * 0.5) || atS >= this.opts.seconds * 0.85);
  }

  /** Lowers the limit to what the budget has spent (from /metrics); returns the event line to show. */
  async push(spentUsd: number, rejected: number, atS: number): Promise<string> {
    this.pushing = true;
    const newLimitUsd = below(spentUsd);
    const text = this.opts.configText(newLimitUsd);
    const wallMs = Date.now();
    const { redisUrl, configFile } = this.opts;
    if (redisUrl) {
      const file = resolve(configFile, '../../fleet-push.yaml');
      writeFileSync(file, text);
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [this.opts.cli, 'config', 'push', file, '--redis-url', redisUrl]);
        const version = /version (\d+)/.exec(stdout)?.[1];
        this.pushed = { atS, wallMs, newLimitUsd, via: `llm-governor config push ${file}`, ...(version ? { version } : {}), rejectedBefore: rejected };
        return `config push: ${stdout.trim()}`;
      } catch (err) {
        this.pushed = { atS, wallMs, newLimitUsd, via: 'config push FAILED', rejectedBefore: rejected };
        return `config push failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`;
      }
    }
    // Written aside and renamed over: the watch never sees a half-written file.
    writeFileSync(`${configFile}.new`, text);
    renameSync(`${configFile}.new`, configFile);
    this.pushed = { atS, wallMs, newLimitUsd, via: `rewrote ${configFile} (no redis-server on PATH: the fleet push needs Redis, so the file reload is shown instead)`, rejectedBefore: rejected };
    return `config file rewritten: ${FORECAST_BUDGET} limit $${newLimitUsd} (no Redis for a fleet push)`;
  }

  /** The app's `config_loaded` events (from its audit file): the first after the push is the push applied. */
  onReloads(reloads: { time: number; message: string }[]): string | undefined {
    if (!this.pushed || this.applied) return undefined;
    const hit = reloads.find((r) => r.time >= this.pushed!.wallMs && /reloaded \((fleet|file)\)/.test(r.message));
    if (!hit) return undefined;
    this.applied = { afterMs: Math.max(0, hit.time - this.pushed.wallMs), message: hit.message };
    return `app applied it: ${hit.message}`;
  }

  /** The summary's lines; `problem` when the story is incomplete. */
  report(final: { rejected: number; configVersion?: string }): { lines: string[]; problem?: string } {
    const { crossing, pushed, applied } = this;
    const lines = [crossing ? `forecast: at ${crossing.atS.toFixed(1)} s, ${crossing.text}` : `forecast: budget "${FORECAST_BUDGET}" did not cross its forecast alert (limit $${this.opts.limitUsd})`];
    if (pushed) {
      lines.push(
        `config push: at ${pushed.atS.toFixed(1)} s, limit of "${FORECAST_BUDGET}" $${this.opts.limitUsd} → $${pushed.newLimitUsd}${pushed.version ? ` as fleet version ${pushed.version}` : ''}, via ${pushed.via}`,
      );
      lines.push(
        applied
          ? `  applied by the app ${applied.afterMs} ms later (audit config_loaded: ${applied.message}); /metrics llm_governor_config_info version="${final.configVersion ?? '?'}"`
          : '  NOT applied by the app (no config_loaded in its audit file after the push)',
      );
      lines.push(`  effect: ${final.rejected - pushed.rejectedBefore} gpt-4.1-mini call(s) refused with budget_exceeded after the push (${pushed.rejectedBefore} before)`);
    }
    const problem = this.problem(final.rejected);
    return { lines, ...(problem ? { problem } : {}) };
  }

  private problem(rejected: number): string | undefined {
    if (!this.crossing) return 'no forecast crossing';
    if (!this.pushed) return 'no push';
    if (this.opts.redisUrl && !this.pushed.version) return 'the fleet push failed';
    if (!this.applied) return 'the push was not applied';
    return rejected > this.pushed.rejectedBefore ? undefined : 'no call refused after the push';
  }
}
