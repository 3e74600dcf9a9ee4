import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests that need no database (rendering, the command line's
 * parser, the grammar, Slack's messages), run without starting or finding one.
 */
export default defineConfig({
  test: {
    include: ['test/cli/render.test.ts', 'test/cli/program.test.ts', 'test/commands/grammar.test.ts', 'test/bot/messages.test.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
