/** Error bodies in the shapes the real services send. */
import type { Provider } from './types';

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function openaiError(status: number, message: string, type: string, param: string | null = null, code: string | null = null): ErrorReply {
  return { status, body: { error: { message, type, param, code } } };
}

function azureError(status: number, code: string, message: string): ErrorReply {
  return { status, body: { error: { code, message } } };
}

export function invalidUrl(method: string, path: string, provider: Provider): ErrorReply {
  if (provider === 'azure') return azureError(404, '404', 'Resource not found');
  return openaiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error');
}

export function missingParameter(name: string): ErrorReply {
  return openaiError(400, `Missing required parameter: '${name}'.`, 'invalid_request_error', name, 'missing_required_parameter');
}

export function invalidParameter(name: string, message: string): ErrorReply {
  return openaiError(400, message, 'invalid_request_error', name, 'invalid_value');
}

export function invalidJsonBody(): ErrorReply {
  return openaiError(
    400,
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    'invalid_request_error',
  );
}

export function unauthorized(provider: Provider): ErrorReply {
  if (provider === 'azure') {
    return azureError(
      401,
      '401',
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    );
  }
  return openaiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    'invalid_request_error',
  );
}

function retryHeaders(retryAfterSeconds: number | undefined): Record<string, string> {
  if (retryAfterSeconds === undefined) return {};
  return { 'retry-after': String(retryAfterSeconds), 'retry-after-ms': String(Math.round(retryAfterSeconds * 1000)) };
}

export function rateLimited(provider: Provider, model: string | undefined, retryAfterSeconds = 1): ErrorReply {
  const headers = { ...retryHeaders(retryAfterSeconds), 'x-ratelimit-remaining-requests': '0' };
  if (provider === 'azure') {
    const reply = azureError(
      429,
      '429',
      `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    );
    return { ...reply, headers };
  }
  const wait = retryAfterSeconds >= 1 ? `${retryAfterSeconds}s` : `${Math.round(retryAfterSeconds * 1000)}ms`;
  const reply = openaiError(
    429,
    `Rate limit reached for ${model ?? 'default'} in organization org-simulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    'requests',
    null,
    'rate_limit_exceeded',
  );
  return { ...reply, headers };
}

export function serverError(): ErrorReply {
  return openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
}

export function overloaded(retryAfterSeconds?: number): ErrorReply {
  return { ...openaiError(503, 'The server is overloaded or not ready yet.', 'server_error'), headers: retryHeaders(retryAfterSeconds) };
}

export function modelNotFound(model: string): ErrorReply {
  return openaiError(404, `The model '${model}' does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
}
