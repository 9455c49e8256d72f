/**
 * Global setup of the `integration` project: makes the local engines usable (reusing running ones,
 * starting the others) and hands their endpoints to the tests through `inject('engines')`.
 * Engines are deliberately left running at teardown: the next run reuses them in well under a second.
 */
import type { TestProject } from 'vitest/node';
import { type EngineEndpoints, EnginesError, ensureEngines } from '../../scripts/lib/engines.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engines: EngineEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  let engines: EngineEndpoints;
  try {
    engines = await ensureEngines();
  } catch (error) {
    const detail =
      error instanceof EnginesError
        ? error.failures
            .map((f) => `- ${f.engine}: ${f.reason}${f.logFile ? `\n  log: ${f.logFile}` : ''}`)
            .join('\n')
        : String(error instanceof Error ? error.message : error);
    throw new Error(
      `Integration engines could not be made ready:\n${detail}\n` +
        'Start them by hand with `npm run engines -- up` (and check them with `npm run engines -- status`).',
    );
  }

  // The AWS SDK reads these from the environment: code under test built without an explicit endpoint
  // must still talk to the local emulator, never to AWS. Workers start after this and inherit them.
  process.env.AWS_ENDPOINT_URL = engines.awsEndpointUrl;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';

  project.provide('engines', engines);
}
