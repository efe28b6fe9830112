/**
 * ESM preload: `node --import llm-governor/register app.mjs`.
 * Registers the import-in-the-middle loader (only for the modules we hook), then runs the
 * CommonJS preload, which hooks `openai` for both `require` and `import`.
 */
import { createRequire, register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const require = createRequire(import.meta.url);
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
require('./register.js');
await waitForAllMessagesAcknowledged();
