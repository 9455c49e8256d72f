import { defineConfig } from 'vitest/config';

/**
 * Three layers, one runner:
 * - unit: domain logic, no I/O;
 * - infra: CDK Template assertions and snapshots (no AWS credentials, no engines);
 * - integration: the real local engines, started (or reused) by a global setup.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          snapshotSerializers: ['test/infra/asset-hash-serializer.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
