/** A low-cardinality error type: our errors' code, a type the error declares, else the SDK error's class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { llmGovernorCode?: unknown }).llmGovernorCode;
    if (typeof code === 'string') return code;
    const declared = (error as { errorType?: unknown }).errorType;
    if (typeof declared === 'string') return declared;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name && name !== 'Object') return name;
  }
  return '_OTHER';
}
