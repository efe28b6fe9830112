/** One result of the moderation endpoint, as much of it as we read. */
export interface ModerationResult {
  flagged: boolean;
  categories: Record<string, boolean>;
}

/** Used when a result says `flagged` but names no category (not expected from the API). */
const UNNAMED_CATEGORY = 'flagged';

/** Does a configured category cover an endpoint category? Itself, or a subcategory (`self-harm` covers `self-harm/intent`). */
export function covers(configured: string, category: string): boolean {
  return category === configured || category.startsWith(configured + '/');
}

/**
 * The categories that block, over all results, each once, in the order first seen. Pure.
 *
 * - `filter` unset: every flagged result blocks, with each category it marks `true`.
 * - `filter` set: only categories it covers block (exactly, or as their parent: `harassment`
 *   covers `harassment/threatening`); other flagged categories are ignored.
 */
export function blockingCategories(results: readonly ModerationResult[], filter?: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of results) {
    if (!r || typeof r !== 'object') continue;
    const marked = Object.entries(r.categories ?? {})
      .filter(([, on]) => on === true)
      .map(([c]) => c);
    if (filter) {
      for (const c of marked) if (filter.some((f) => covers(f, c))) out.add(c);
    } else if (r.flagged === true || marked.length > 0) {
      if (marked.length === 0) out.add(UNNAMED_CATEGORY);
      for (const c of marked) out.add(c);
    }
  }
  return [...out];
}
