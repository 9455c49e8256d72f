/** The Secrets Manager client of a container, created on first use and traced; credentials secrets. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { tracer } from '../powertools.js';

let client: SecretsManagerClient | undefined;

export function secretsManagerClient(): SecretsManagerClient {
  client ??= tracer.captureAWSv3Client(new SecretsManagerClient({}));
  return client;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const credentialsSchema = z.object({ username: z.string().min(1).optional(), password: z.string().min(1) });

/**
 * A secret holding JSON `{username, password}` (as the stacks generate them). `defaultUsername`
 * stands in for a secret without a username (a Redis AUTH token). The secret's content never
 * appears in an error.
 */
export async function readCredentials(
  secretArn: string,
  options: { defaultUsername?: string } = {},
): Promise<Credentials> {
  const out = await secretsManagerClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
  let value: unknown;
  try {
    value = JSON.parse(out.SecretString ?? '');
  } catch {
    value = undefined;
  }
  const parsed = credentialsSchema.safeParse(value);
  const username = parsed.success ? (parsed.data.username ?? options.defaultUsername) : undefined;
  if (!parsed.success || username === undefined) {
    throw new Error(`secret ${secretArn} must hold JSON {"username", "password"}`);
  }
  return { username, password: parsed.data.password };
}
