import { getState } from '../runtime-state';
import type { ReloadOutcome } from './live-config';

export type { ReloadOutcome } from './live-config';

/**
 * Reads the configuration again (the `LLM_GOVERNOR_CONFIG` file, the environment, the fleet
 * config) and puts it in force for the calls that start from now on; an invalid one is rejected
 * whole and the one in force stays. Resolves with what was done; never rejects. Needs the preload
 * (`llm-governor/register`); without it there is nothing to reload.
 */
export async function reload(): Promise<ReloadOutcome | { applied: false; reason: string }> {
  const live = getState()?.live;
  if (!live) return { applied: false, reason: 'llm-governor is not running in this process (start it with --require or --import llm-governor/register)' };
  try {
    return await live.reload('api');
  } catch (err) {
    return { applied: false, reason: `the reload failed: ${(err as Error)?.message ?? err}` };
  }
}
