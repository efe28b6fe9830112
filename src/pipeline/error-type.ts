/** A low-cardinality error type: our errors' code, else the SDK error's class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { llmGovernorCode?: unknown }).llmGovernorCode;
    if (typeof code === 'string') return code;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name && name !== 'Object') return name;
  }
  return '_OTHER';
}
