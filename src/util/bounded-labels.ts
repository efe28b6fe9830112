/**
 * Keeps a metric label's cardinality bounded: the first `limit` distinct values seen are kept
 * as they are, every later one becomes `other`. (Values seen first are the busiest in practice;
 * a restart re-learns them.)
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly limit: number) {}

  label(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.limit) {
      this.seen.add(value);
      return value;
    }
    return 'other';
  }
}
