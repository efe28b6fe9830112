import { z } from 'zod';

/**
 * The OCSF 1.8 **API Activity** (`class_uid` 6003) subset we emit, with the `ai_operation`
 * profile, as one strict zod schema: a key the schema does not name (a prompt, a header, an API
 * key copied by mistake) makes the event invalid rather than silently travelling to a SIEM.
 * The builder is `auditEvent` in `ocsf.ts`.
 */
export const OCSF_VERSION = '1.8.0';
export const API_ACTIVITY_CLASS_UID = 6003;
export const APPLICATION_CATEGORY_UID = 6;

export const ACTIVITY = { UNKNOWN: 0, CREATE: 1, READ: 2, UPDATE: 3, DELETE: 4, OTHER: 99 } as const;
export const ACTIVITY_NAME: Record<number, string> = { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' };

export const SEVERITY = { UNKNOWN: 0, INFORMATIONAL: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5, FATAL: 6, OTHER: 99 } as const;
export const SEVERITY_NAME: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };

export const STATUS = { UNKNOWN: 0, SUCCESS: 1, FAILURE: 2, OTHER: 99 } as const;
export const STATUS_NAME: Record<number, string> = { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' };

/** What `unmapped.decision` can say. */
export const DECISIONS = ['allow', 'block', 'cap_tokens', 'downgrade', 'alert', 'rate_limited', 'cache_hit', 'moderation_block', 'fallback', 'fail_open', 'fail_closed', 'estimate_cost'] as const;

const nonNegInt = z.number().int().nonnegative();
const shortText = z.string().min(1).max(1024);

const endpointSrc = z
  .object({
    svc_name: shortText,
    hostname: shortText.optional(),
  })
  .strict();

const endpointDst = z
  .object({
    hostname: shortText,
    port: z.number().int().min(1).max(65535).optional(),
  })
  .strict();

const modelRef = z.object({ provider: shortText, model: shortText.optional() }).strict();

export const ocsfApiActivitySchema = z
  .object({
    class_uid: z.literal(API_ACTIVITY_CLASS_UID),
    class_name: z.literal('API Activity').optional(),
    category_uid: z.literal(APPLICATION_CATEGORY_UID),
    category_name: z.literal('Application Activity').optional(),
    activity_id: z.literal([0, 1, 2, 3, 4, 99]),
    activity_name: shortText.optional(),
    type_uid: z.number().int(),
    type_name: shortText.optional(),
    time: nonNegInt,
    duration: nonNegInt.optional(),
    severity_id: z.literal([0, 1, 2, 3, 4, 5, 6, 99]),
    severity: shortText.optional(),
    status_id: z.literal([0, 1, 2, 99]),
    status: shortText.optional(),
    status_code: z.string().min(1).max(64).optional(),
    status_detail: shortText.optional(),
    message: shortText,
    api: z
      .object({
        operation: shortText,
        service: z.object({ name: shortText }).strict(),
      })
      .strict(),
    actor: z
      .object({
        app_name: shortText,
        app_uid: shortText.optional(),
        user: z
          .object({
            uid: shortText.optional(),
            name: shortText.optional(),
            account: z.object({ uid: shortText }).strict().optional(),
          })
          .strict()
          .refine((u) => u.uid !== undefined || u.name !== undefined || u.account !== undefined, {
            message: 'OCSF User needs at least one of uid, name, account',
          })
          .optional(),
      })
      .strict(),
    src_endpoint: endpointSrc,
    dst_endpoint: endpointDst.optional(),
    ai_model: z.object({ ai_provider: shortText, name: shortText }).strict().optional(),
    message_context: z
      .object({
        service: z.object({ name: shortText }).strict(),
        prompt_tokens: nonNegInt.optional(),
        completion_tokens: nonNegInt.optional(),
        total_tokens: nonNegInt.optional(),
      })
      .strict()
      .optional(),
    metadata: z
      .object({
        product: z.object({ name: shortText, version: shortText, vendor_name: shortText }).strict(),
        uid: shortText,
        correlation_uid: z
          .string()
          .regex(/^[0-9a-f]{32}$/, 'expected a W3C trace id')
          .optional(),
        version: z.literal(OCSF_VERSION),
        profiles: z.array(z.literal('ai_operation')).length(1),
      })
      .strict(),
    unmapped: z
      .object({
        kind: shortText,
        cost_usd: z.number().nonnegative().optional(),
        budget: shortText.optional(),
        budget_state: z
          .object({
            spent_usd: z.number().nonnegative().optional(),
            limit_usd: z.number().positive().optional(),
            window: shortText.optional(),
            threshold: z.number().positive().optional(),
          })
          .strict()
          .optional(),
        breaker: z
          .object({
            provider: shortText.optional(),
            model: shortText.optional(),
            state: z.enum(['closed', 'half_open', 'open']),
            from: z.enum(['closed', 'half_open', 'open']).optional(),
          })
          .strict()
          .optional(),
        decision: z.enum(DECISIONS).optional(),
        estimated: z.boolean().optional(),
        requested_model: shortText.optional(),
        fallback_from: modelRef.optional(),
        max_output_tokens: nonNegInt.optional(),
      })
      .strict(),
  })
  .strict()
  .refine((e) => e.type_uid === e.class_uid * 100 + e.activity_id, { message: 'type_uid must be class_uid * 100 + activity_id', path: ['type_uid'] });

export type OcsfApiActivity = z.infer<typeof ocsfApiActivitySchema>;
