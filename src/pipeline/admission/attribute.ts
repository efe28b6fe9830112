import { resolveAttribution } from '../../attribution';
import { ATTR, PROVIDER } from '../../semconv';
import type { Body } from '../../operations';
import type { AdmissionStep } from './types';

/**
 * Who the call is for and what it asks: the request model (the span is named after it), the
 * attribution (tenant, user, feature), the request attributes of its operation, and with content
 * capture on, its input messages.
 */
export const attribute: AdmissionStep = (a) => {
  const body = a.original.body;
  if (!body || typeof body !== 'object' || body instanceof Uint8Array) return;
  const b = plainFields(body);
  const rec = a.rec;
  if (rec.requestModel === undefined && typeof b.model === 'string') {
    rec.requestModel = b.model;
    a.renamed();
  }
  rec.requestBody = b;
  rec.stream = b.stream === true;
  a.attribution = resolveAttribution(a.parent, b, a.config.user_hash_salt);
  const attrs: Record<string, any> = {};
  if (a.attribution.tenant) attrs[ATTR.TENANT] = a.attribution.tenant;
  if (a.attribution.user) attrs[ATTR.USER] = a.attribution.user;
  if (a.attribution.feature) attrs[ATTR.FEATURE] = a.attribution.feature;
  if (rec.requestModel) attrs[ATTR.REQUEST_MODEL] = rec.requestModel;
  if (a.op.stream) attrs[ATTR.REQUEST_STREAM] = rec.stream;
  a.op.requestAttributes(b, attrs);
  if (a.provider.name !== PROVIDER.OPENAI) for (const k of Object.keys(attrs)) if (k.startsWith('openai.')) delete attrs[k];
  if (a.config.capture_content && a.op.inputMessages) attrs[ATTR.INPUT_MESSAGES] = JSON.stringify(a.op.inputMessages(b));
  a.setAttributes(attrs);
};

/**
 * Streams carry usage only when asked (`stream_options.include_usage`): we ask, on a copy of the
 * body, and the stream observer hides what our asking added.
 */
export const askStreamUsage: AdmissionStep = (a) => {
  if (!a.plain || !a.config.request_stream_usage || !a.op.withStreamUsage) return;
  const withUsage = a.op.withStreamUsage(a.body ?? (a.original.body as Body));
  if (!withUsage) return;
  a.rec.usageInjected = true;
  a.body = withUsage;
};

/** The JSON fields of a request body (multipart bodies: their plain, non-file fields). */
function plainFields(body: object): Body {
  if (typeof (body as FormData).entries === 'function' && typeof (body as FormData).get === 'function') {
    const out: Body = {};
    let fileBytes = 0;
    for (const [k, v] of (body as FormData).entries()) {
      if (typeof v === 'string') out[k] = v;
      else if (v && typeof (v as Blob).size === 'number') fileBytes += (v as Blob).size;
    }
    // Uploaded bytes, for a worst-case estimate of audio seconds (the file itself is never kept).
    if (fileBytes) out._file_bytes = fileBytes;
    return out;
  }
  // openai v4 wraps multipart bodies in a MultipartBody holding the FormData.
  const inner = (body as { body?: unknown }).body;
  if (inner && typeof inner === 'object' && typeof (inner as FormData).entries === 'function') return plainFields(inner);
  return body as Body;
}

/** A JSON body we may copy and change (not a multipart or binary one). */
export function isPlainBody(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}
