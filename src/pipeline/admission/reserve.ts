import type { Admission } from '../../cost/engine';
import type { Governor } from '../../cost/governor';
import { picoToUsd } from '../../cost/money';
import type { Body } from '../../operations';
import type { ProviderInfo } from '../../providers/detect';
import { ATTR } from '../../semconv';
import { safely } from '../../util/safely';
import type { Target } from '../../guards/fallback';
import { refusalOf, type Refusal } from '../wire';
import type { AdmissionStep, Admitting } from './types';

/**
 * The budgets: the call's worst case is reserved on every budget it falls under, or the budget's
 * action applies (a cheaper model, fewer output tokens, a refusal). A call answered from the cache
 * spends nothing and reserves nothing.
 */
export const reserve: AdmissionStep = (a) => {
  const governor = a.governor;
  if (a.cached || !governor?.budgetsActive) return;
  return reserveOn(a, governor);
};

async function reserveOn(a: Admitting, governor: Governor): Promise<void> {
  a.admission = await admitOn(a, governor, a.body ?? a.rec.requestBody, a.provider.name, a.rec.requestModel);
  if (a.plain) a.body = applyAdmission(a, a.body ?? (a.original.body as Body), a.admission);
}

/**
 * Admits a request on the budgets (the primary's, or a backup's after a fallback). A refusal of
 * ours is audited and thrown; a fault of ours never blocks the app's call.
 */
async function admitOn(a: Admitting, governor: Governor, body: Body, provider: string, model: string | undefined): Promise<Admission | undefined> {
  try {
    return await governor.admit({ op: a.op, provider: provider as ProviderInfo['name'], model, body, attribution: a.attribution }, a.client);
  } catch (err) {
    const code = (err as { llmGovernorCode?: string })?.llmGovernorCode;
    if (code) {
      auditBlock(a, err, code, provider, model);
      throw err;
    }
    safely(() => {
      throw err;
    });
    return undefined;
  }
}

/** The admission's changes, on a copy of the body: a cheaper model, or fewer output tokens. */
export function applyAdmission(a: Admitting, body: Body, admission: Admission | undefined): Body {
  if (!admission) return body;
  auditActions(a, admission);
  let out = body;
  const attrs: Record<string, string | number | boolean | string[]> = {};
  if (admission.model) {
    out = { ...out, model: admission.model };
    attrs[ATTR.SERVED_MODEL] = admission.model;
  }
  if (admission.maxOutputTokens !== undefined && a.op.maxOutput) out = a.op.maxOutput.write(out, admission.maxOutputTokens);
  if (admission.actions.length) attrs[ATTR.BUDGET_ACTIONS] = admission.actions;
  if (admission.reservation && !admission.storeUnavailable) attrs[ATTR.BUDGET_RESERVED_USD] = picoToUsd(admission.reservation.amount);
  if (admission.storeUnavailable) attrs[ATTR.BUDGET_STORE_UNAVAILABLE] = true;
  a.setAttributes(attrs);
  return out;
}

function auditBlock(a: Admitting, err: unknown, code: string, provider: string, model: string | undefined): void {
  const d = (err as { details?: Record<string, unknown> })?.details ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  a.audit('budget_block', {
    provider,
    model,
    statusCode: code,
    detail: code,
    ...(typeof d.budget === 'string' ? { budget: { name: d.budget, spentUsd: num(d.spentUsd), limitUsd: num(d.limitUsd), window: typeof d.resetsAt === 'string' ? d.resetsAt : undefined } } : {}),
    ...(code === 'budget_unavailable' ? { message: `budget store unavailable; a call to ${provider} ${model ?? ''} was refused (fail closed)`.replace(/\s+\)/, ')').trim() } : {}),
  });
}

/** Budget actions that changed the call, a downgrade or capped output tokens: audited once per action. */
const AUDITED = new WeakMap<Admitting, Set<string>>();

function auditActions(a: Admitting, admission: Admission): void {
  let done = AUDITED.get(a);
  if (!done) AUDITED.set(a, (done = new Set()));
  for (const action of admission.actions) {
    if (done.has(action)) continue;
    done.add(action);
    const at = action.lastIndexOf(':');
    const name = action.slice(0, at);
    const kind = action.slice(at + 1);
    if (kind === 'downgrade' && admission.model) a.audit('downgrade_applied', { budget: { name }, model: admission.model, requestedModel: a.rec.requestModel });
    else if (kind === 'cap_tokens') a.audit('token_cap_applied', { budget: { name }, maxOutputTokens: admission.maxOutputTokens });
  }
}

/**
 * A fallback to a backup: budgets charge what serves, so the primary's reservation is released
 * and the backup's worst case reserved (a refusal means the backup is skipped).
 */
export async function readmitFor(a: Admitting, governor: Governor, body: Body, target: Target): Promise<Refusal | undefined> {
  const previous = a.admission;
  a.admission = undefined;
  safely(() => governor.settle(previous, undefined));
  try {
    a.admission = await admitOn(a, governor, { ...body, model: target.model }, target.provider.name, target.model);
    return undefined;
  } catch (err) {
    return refusalOf(err);
  }
}
