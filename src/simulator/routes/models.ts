/** GET models and GET models/{id}. */
import type { RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { knownModels } from '../models';
import { modelNotFound } from '../errors';

const CREATED = 1_715_367_049;

function modelObject(id: string, provider: string) {
  return { id, object: 'model', created: CREATED, owned_by: provider === 'xai' ? 'xai' : 'system' };
}

export function handleListModels(ctx: RequestContext): void {
  const provider = ctx.route.provider;
  sendJson(ctx, 200, { object: 'list', data: knownModels(provider).map((id) => modelObject(id, provider)) });
}

export function handleGetModel(ctx: RequestContext): void {
  const id = decodeURIComponent(ctx.route.op.slice('models/'.length));
  if (!knownModels(ctx.route.provider).includes(id)) return sendError(ctx, modelNotFound(id));
  sendJson(ctx, 200, modelObject(id, ctx.route.provider));
}
