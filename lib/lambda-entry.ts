import { fileURLToPath } from 'node:url';

/** Absolute path of a handler under `lambdas/`, e.g. `orders/handlers/place-order.ts`. */
export function lambdaEntry(relativePath: string): string {
  return fileURLToPath(new URL(`../lambdas/${relativePath}`, import.meta.url));
}
