/** Azure OpenAI's content-filter annotations. */

const SAFE = { filtered: false, severity: 'safe' };

function harmCategories() {
  return { hate: { ...SAFE }, self_harm: { ...SAFE }, sexual: { ...SAFE }, violence: { ...SAFE } };
}

export function promptFilterResults(promptCount = 1) {
  return Array.from({ length: promptCount }, (_, i) => ({
    prompt_index: i,
    content_filter_results: { ...harmCategories(), jailbreak: { filtered: false, detected: false } },
  }));
}

export function completionFilterResults() {
  return {
    ...harmCategories(),
    protected_material_code: { filtered: false, detected: false },
    protected_material_text: { filtered: false, detected: false },
  };
}

/** Azure's first stream chunk: no choices, only the prompt filter verdict. */
export function promptFilterChunk() {
  return { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults() };
}
