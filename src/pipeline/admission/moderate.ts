import { ATTR, REJECT_REASON } from '../../semconv';
import type { Body } from '../../operations';
import type { Guards } from '../../guards';
import type { AdmissionStep, Admitting } from './types';

/** The moderation guard: the user's content flagged by a rule or the endpoint is refused, and nothing is sent. */
export const moderate: AdmissionStep = (a) => {
  const guard = a.guards?.moderation;
  if (!a.plain || !guard) return;
  return check(a, guard);
};

async function check(a: Admitting, guard: NonNullable<Guards['moderation']>): Promise<void> {
  const verdict = await guard.check(
    { provider: a.provider.name, model: a.rec.requestModel, operation: a.op.name, path: a.path },
    a.original.body as Body,
    (model, input) => a.moderations(model, input) as Promise<any>,
  );
  if (!verdict) return;
  a.setAttributes({ [ATTR.MODERATION_FLAGGED]: verdict.categories });
  a.countRejected(REJECT_REASON.CONTENT);
  a.audit('moderation_block', { statusCode: 'content_blocked', detail: `${verdict.source}: ${verdict.categories.join(', ')}` });
  throw a.refusal('content_blocked', 400, `llm-governor: ${verdict.reason}; nothing was sent`, { source: verdict.source, categories: verdict.categories });
}
