/**
 * The outputs of a deployed stage's stack, from a `cdk deploy --outputs-file` file or the one
 * `npm start` writes, for the operations scripts (`rebuild-read-models`, `dlq`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { stackName } from '../../lib/platform.js';
import { LOCAL_OUTPUTS_FILE } from '../local-cloud/runtime.js';
import { engineEndpoints } from './engines.js';

export class StackOutputsError extends Error {}

export interface StackOutputs {
  readonly file: string;
  readonly stackName: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** The value of one output; a missing one is a StackOutputsError naming it. */
  output(key: string): string;
}

export function readStackOutputs(file: string, stage: string, stack: string): StackOutputs {
  if (!existsSync(file)) {
    throw new StackOutputsError(
      file === LOCAL_OUTPUTS_FILE
        ? `${file} is missing: start the platform with \`npm start\` first, or pass --outputs-file`
        : `${file} is missing`,
    );
  }
  const name = stackName(stage, stack);
  const outputs = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>)[name];
  if (!outputs) throw new StackOutputsError(`${file} has no stack ${name}`);
  return {
    file,
    stackName: name,
    outputs,
    output: (key) => {
      const value = outputs[key];
      if (value === undefined) throw new StackOutputsError(`${file} has no output ${name}.${key}`);
      return value;
    },
  };
}

/**
 * The local cloud's outputs file means the local emulator (unless an endpoint was chosen
 * explicitly); any emulator gets a region and test credentials when none are set.
 */
export function useEndpointFor(file: string): void {
  if (file === LOCAL_OUTPUTS_FILE) process.env.AWS_ENDPOINT_URL ??= engineEndpoints().awsEndpointUrl;
  if (process.env.AWS_ENDPOINT_URL) {
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  }
}
