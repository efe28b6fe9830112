/** POST images/generations and images/edits (multipart). */
import { unixNow, type RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { invalidParameter, missingParameter } from '../errors';
import { countTokens } from '../tokens';
import { imageTokens } from '../prompt-tokens';
import { FILES_PREFIX } from '../router';
import { solidPng } from '../png';
import { phrase } from '../text';

/** gpt-image-1 output tokens by quality and size (square, portrait, landscape). */
const IMAGE_OUTPUT_TOKENS: Record<string, [number, number, number]> = {
  low: [272, 408, 400],
  medium: [1056, 1584, 1568],
  high: [4160, 6240, 6208],
};

function isGptImage(model: string): boolean {
  return model.startsWith('gpt-image');
}

function parseSize(size: unknown): [number, number] {
  const m = typeof size === 'string' ? /^(\d+)x(\d+)$/.exec(size) : null;
  const side = (v: string | undefined) => Math.min(4096, Math.max(1, Number(v)));
  return m ? [side(m[1]), side(m[2])] : [1024, 1024];
}

function outputTokens(quality: string, width: number, height: number): number {
  const row = IMAGE_OUTPUT_TOKENS[quality] ?? IMAGE_OUTPUT_TOKENS.medium!;
  return width === height ? row[0] : height > width ? row[1] : row[2];
}

interface ImageRequest {
  model: string;
  prompt: string;
  n: number;
  inputImages: number;
}

function respond(ctx: RequestContext, req: ImageRequest): void {
  const { body } = ctx;
  const gptImage = isGptImage(req.model);
  const sizeText = typeof body.size === 'string' && body.size !== 'auto' ? body.size : '1024x1024';
  const [width, height] = parseSize(sizeText);
  const asUrl = !gptImage && body.response_format !== 'b64_json';
  const data = Array.from({ length: req.n }, (_, i) => {
    const rng = ctx.rng.fork(`image-${i}`);
    const png = solidPng(width, height, [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)]);
    const item: Record<string, unknown> = {};
    if (req.model === 'dall-e-3') item.revised_prompt = `${req.prompt} (${phrase(rng, 3, 6)})`;
    if (asUrl) {
      const name = `img-${ctx.ids.id(24)}.png`;
      ctx.state.files.set(name, { contentType: 'image/png', data: png });
      item.url = `${ctx.state.url}${FILES_PREFIX}${name}`;
    } else item.b64_json = png.toString('base64');
    return item;
  });
  if (!gptImage) return sendJson(ctx, 200, { created: unixNow(), data });

  const quality = ['low', 'medium', 'high'].includes(body.quality) ? String(body.quality) : 'medium';
  const textTokens = countTokens(req.prompt, 'o200k_base');
  const imageInputTokens = req.inputImages * imageTokens(req.model, 'high');
  const output = outputTokens(quality, width, height) * req.n;
  ctx.state.rate.charge(textTokens + imageInputTokens + output);
  const usage = {
    total_tokens: textTokens + imageInputTokens + output,
    input_tokens: textTokens + imageInputTokens,
    output_tokens: output,
    input_tokens_details: { text_tokens: textTokens, image_tokens: imageInputTokens },
  };
  sendJson(ctx, 200, {
    created: unixNow(),
    background: body.background ?? 'opaque',
    data,
    output_format: 'png',
    quality,
    size: sizeText,
    ...(ctx.omitUsage ? {} : { usage }),
  });
}

function validate(ctx: RequestContext, model: string, n: number): boolean {
  if (typeof ctx.body.prompt !== 'string' || !ctx.body.prompt) {
    sendError(ctx, missingParameter('prompt'));
    return false;
  }
  if (!Number.isInteger(n) || n < 1 || n > 10 || (model === 'dall-e-3' && n !== 1)) {
    sendError(ctx, invalidParameter('n', model === 'dall-e-3' ? 'You must provide n=1 for this model.' : `Invalid 'n': must be between 1 and 10.`));
    return false;
  }
  return true;
}

export function handleImageGeneration(ctx: RequestContext): void {
  const model = ctx.model ?? 'dall-e-2';
  const n = Number(ctx.body.n ?? 1);
  if (validate(ctx, model, n)) respond(ctx, { model, prompt: ctx.body.prompt, n, inputImages: 0 });
}

export function handleImageEdit(ctx: RequestContext): void {
  const model = ctx.model ?? 'dall-e-2';
  const n = Number(ctx.body.n ?? 1);
  const images = ctx.files.filter((f) => f.field === 'image' || f.field === 'image[]');
  if (images.length === 0) return sendError(ctx, missingParameter('image'));
  if (validate(ctx, model, n)) respond(ctx, { model, prompt: ctx.body.prompt, n, inputImages: images.length });
}
