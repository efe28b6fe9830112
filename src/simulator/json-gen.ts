/** Deterministic JSON values that satisfy a (simple) JSON schema: tool arguments, structured outputs. */
import type { Prng } from './prng';
import type { JsonSchema } from './prompt-tokens';
import { CITIES, generateSentences, phrase } from './text';
import type { EncodingName } from './models';

const MAX_DEPTH = 6;

export function valueForSchema(schema: JsonSchema | undefined, rng: Prng, key = '', depth = 0): unknown {
  if (!schema || typeof schema !== 'object') return phrase(rng);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return rng.pick(schema.enum);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.anyOf) && schema.anyOf.length > 0) {
    const options = schema.anyOf.filter((s) => s.type !== 'null');
    return valueForSchema(options[0] ?? schema.anyOf[0], rng, key, depth);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return depth >= MAX_DEPTH ? {} : objectForSchema(schema, rng, depth);
    case 'array': {
      if (depth >= MAX_DEPTH) return [];
      const n = rng.int(1, 3);
      return Array.from({ length: n }, () => valueForSchema(schema.items, rng, key, depth + 1));
    }
    case 'integer':
      return rng.int(typeof schema.minimum === 'number' ? schema.minimum : 1, typeof schema.maximum === 'number' ? schema.maximum : 100);
    case 'number':
      return Math.round(rng.next() * 10000) / 100;
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    default:
      return stringFor(key, rng);
  }
}

function objectForSchema(schema: JsonSchema, rng: Prng, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    out[key] = valueForSchema(prop, rng, key, depth + 1);
  }
  return out;
}

function stringFor(key: string, rng: Prng): string {
  const k = key.toLowerCase();
  if (/(city|location|place|town)/.test(k)) return rng.pick(CITIES);
  if (k.includes('email')) return `${rng.pick(['alice', 'bob', 'carol', 'dave'])}@example.com`;
  if (k.includes('date')) return `2025-0${rng.int(1, 9)}-1${rng.int(0, 9)}`;
  if (/(unit|scale)/.test(k)) return rng.pick(['celsius', 'fahrenheit']);
  return phrase(rng);
}

/** JSON text for `response_format` / `text.format`: schema-shaped when a schema is given, else a small object. */
export function jsonText(rng: Prng, schema: JsonSchema | undefined, encoding: EncodingName, targetTokens: number): string {
  if (schema) return JSON.stringify(valueForSchema(schema, rng));
  const answer = generateSentences(rng, Math.max(8, targetTokens - 12), encoding);
  return JSON.stringify({ answer, confidence: Math.round(rng.next() * 100) / 100 });
}
