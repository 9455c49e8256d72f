import type * as z from 'zod';

/** `items.0.quantity: quantity must be at least 1; currency: …`: field paths first, for errors. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
