import { askStreamUsage, attribute } from './admission/attribute';
import { lookUpCache } from './admission/cache-lookup';
import { moderate } from './admission/moderate';
import { reserve } from './admission/reserve';
import type { AdmissionStep, Admitting } from './admission/types';
import { safely } from '../util/safely';

/**
 * The admission of a call, declared once: the steps run in this order before anything is sent.
 *
 *   attribute → ask streams for usage → moderate → cache lookup → reserve on the budgets
 *
 * Moderation refuses flagged content before a cache answer could serve it; a cache hit skips
 * the budgets (it spends nothing); the reservation sees the body as it will be sent.
 */
export const ADMISSION_STEPS: readonly AdmissionStep[] = [attribute, askStreamUsage, moderate, lookUpCache, reserve];

/**
 * Runs the steps in order. A refusal (one of our errors) stops them and reaches the app; any other
 * fault of a step is ours, logged, and the call goes on as that step would have left it.
 */
export async function admit(a: Admitting): Promise<void> {
  for (const step of ADMISSION_STEPS) {
    try {
      // A step with nothing to do returns at once: only a pending one is awaited.
      const pending = step(a);
      if (pending) await pending;
    } catch (err) {
      if ((err as { llmGovernorCode?: unknown })?.llmGovernorCode) throw err;
      safely(() => {
        throw err;
      });
    }
  }
}
