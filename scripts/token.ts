/**
 * Prints a token of the local issuer, accepted by the local cloud wherever the templates use a
 * Cognito user pool (or JWT) authorizer.
 *
 *   npm run -s token                          # sub=local-user, valid one hour
 *   npm run -s token -- --sub alice --claim email=alice@example.com --ttl 600
 */
import { parseArgs } from 'node:util';
import { JwtIssuer } from './local-cloud/auth/jwt-issuer.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'local-user' },
    claim: { type: 'string', multiple: true, default: [] },
    ttl: { type: 'string', default: '3600' },
  },
});
const claims: Record<string, string> = { sub: values.sub };
for (const pair of values.claim) {
  const eq = pair.indexOf('=');
  if (eq <= 0) {
    console.error(`--claim expects name=value, got "${pair}"`);
    process.exit(2);
  }
  claims[pair.slice(0, eq)] = pair.slice(eq + 1);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error('--ttl expects a positive number of seconds');
  process.exit(2);
}
process.stdout.write(`${new JwtIssuer().issue(claims, ttl)}\n`);
