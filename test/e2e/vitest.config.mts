// The end-to-end test in a real VS Code (code-server in headless Chromium): `npm run test:e2e`.
// Kept apart from `npm test` (its files are *.e2e.ts): it needs code-server, installed by
// scripts/install-vscode.sh, and the packaged .vsix.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['verbose'],
  },
});
