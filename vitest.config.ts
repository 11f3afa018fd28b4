import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests spawn bin/callvault.mjs, which runs dist/: built fresh when sources changed.
    globalSetup: ['test/global-setup.ts'],
    // The SDK's warning about Node 20 support would interleave with test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on loopback ports; two workers match the CI machine.
    maxWorkers: 2,
  },
});
