/**
 * Keeps a metric label's cardinality bounded: the first `limit` distinct values seen are kept
 * as they are (cut to `maxLength` characters), every later one becomes `other`, and each fold is
 * reported through `onFold`. (Values seen first are the busiest in practice; a restart re-learns
 * them.) A hostile upstream sending a new 10 KB model name per answer thus costs one `other`
 * series, not a series per answer.
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly maxLength = 128,
    private readonly onFold?: () => void,
  ) {}

  label(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    // A copy, not a slice: a slice would keep a long original alive in `seen`.
    const v = value.length > this.maxLength ? Buffer.from(value.slice(0, this.maxLength), 'utf8').toString('utf8') : value;
    if (this.seen.has(v)) return v;
    if (this.seen.size < this.limit) {
      this.seen.add(v);
      return v;
    }
    this.onFold?.();
    return 'other';
  }
}

/** Which label a fold was of: a wire label, or an attribution dimension. */
export type FoldedLabel = 'model' | 'server' | 'tenant' | 'user' | 'feature' | 'budget_key';

/** The label values that come from the wire: models and servers, each bounded. */
export class WireLabels {
  readonly models: BoundedLabels;
  readonly servers: BoundedLabels;

  /** `onFold` also counts the folds of the attribution labels (the cost metrics bound those). */
  constructor(
    limit: number,
    readonly onFold: (label: FoldedLabel) => void,
  ) {
    this.models = new BoundedLabels(limit, 128, () => onFold('model'));
    this.servers = new BoundedLabels(limit, 128, () => onFold('server'));
  }
}
