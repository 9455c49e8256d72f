/**
 * Zod schemas of the Customer aggregate: the HTTP bodies (`POST /customers`, `PUT /customers/{id}/email`),
 * the data of each command and of each event. Emails are trimmed and lower-cased before they are
 * checked, so `Ada@Example.COM ` and `ada@example.com` are the same address. Pure: nothing from AWS.
 */
import * as z from 'zod';

export const MAX_ID_LENGTH = 128;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_NAME_LENGTH = 200;
export const MAX_REASON_LENGTH = 500;

/** `x is required` when absent, `x must be …` when of another type; other issues keep zod's message. */
const typed = (field: string, kind: string) => ({
  error: (issue: { code?: string; input?: unknown }) => {
    if (issue.code !== 'invalid_type') return undefined;
    return issue.input === undefined ? `${field} is required` : `${field} must be ${kind}`;
  },
});

/** Trims and lower-cases, then checks the address. */
export const emailSchema = z
  .string(typed('email', 'a string'))
  .trim()
  .toLowerCase()
  .max(MAX_EMAIL_LENGTH, `email must be at most ${MAX_EMAIL_LENGTH} characters`)
  .pipe(z.email('email must be a valid email address'));

/** Lower-case form of an email, as the schema stores it. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export const customerIdSchema = z
  .string(typed('customerId', 'a string'))
  .trim()
  .min(1, 'customerId must not be empty')
  .max(MAX_ID_LENGTH, `customerId must be at most ${MAX_ID_LENGTH} characters`);

export const customerNameSchema = z
  .string(typed('name', 'a string'))
  .trim()
  .min(1, 'name must not be empty')
  .max(MAX_NAME_LENGTH, `name must be at most ${MAX_NAME_LENGTH} characters`);

const reasonSchema = z
  .string(typed('reason', 'a string'))
  .trim()
  .min(1, 'reason must not be empty')
  .max(MAX_REASON_LENGTH, `reason must be at most ${MAX_REASON_LENGTH} characters`);

/** Body of `POST /customers`; the id is assigned by the server; unknown fields are refused. */
export const registerCustomerBodySchema = z.strictObject(
  { email: emailSchema, name: customerNameSchema },
  typed('body', 'a JSON object'),
);
export type RegisterCustomerBody = z.infer<typeof registerCustomerBodySchema>;

/** Body of `PUT /customers/{customerId}/email`. */
export const changeEmailBodySchema = z.strictObject({ email: emailSchema }, typed('body', 'a JSON object'));
export type ChangeEmailBody = z.infer<typeof changeEmailBodySchema>;

// ---- Command data -------------------------------------------------------------------------------

export const registerCustomerCommandSchema = registerCustomerBodySchema.extend({
  customerId: customerIdSchema,
});
export const changeEmailCommandSchema = changeEmailBodySchema;
export const deactivateCustomerCommandSchema = z.strictObject({ reason: reasonSchema.optional() });
export const reactivateCustomerCommandSchema = z.strictObject({});

export const customerCommandDataSchemas = {
  RegisterCustomer: registerCustomerCommandSchema,
  ChangeEmail: changeEmailCommandSchema,
  DeactivateCustomer: deactivateCustomerCommandSchema,
  ReactivateCustomer: reactivateCustomerCommandSchema,
} as const;

export type RegisterCustomerData = z.infer<typeof registerCustomerCommandSchema>;
export type ChangeEmailData = z.infer<typeof changeEmailCommandSchema>;
export type DeactivateCustomerData = z.infer<typeof deactivateCustomerCommandSchema>;
export type ReactivateCustomerData = z.infer<typeof reactivateCustomerCommandSchema>;

// ---- Event data ---------------------------------------------------------------------------------

export const customerRegisteredDataSchema = z.strictObject({
  customerId: customerIdSchema,
  email: emailSchema,
  name: customerNameSchema,
});
export const customerEmailChangedDataSchema = z.strictObject({
  customerId: customerIdSchema,
  previousEmail: emailSchema,
  email: emailSchema,
});
export const customerDeactivatedDataSchema = z.strictObject({
  customerId: customerIdSchema,
  reason: reasonSchema.optional(),
});
export const customerReactivatedDataSchema = z.strictObject({ customerId: customerIdSchema });

/** Event type → schema of its `data`; the schema catalog is generated from this map. */
export const customerEventDataSchemas = {
  CustomerRegistered: customerRegisteredDataSchema,
  CustomerEmailChanged: customerEmailChangedDataSchema,
  CustomerDeactivated: customerDeactivatedDataSchema,
  CustomerReactivated: customerReactivatedDataSchema,
} as const;

export type CustomerRegisteredData = z.infer<typeof customerRegisteredDataSchema>;
export type CustomerEmailChangedData = z.infer<typeof customerEmailChangedDataSchema>;
export type CustomerDeactivatedData = z.infer<typeof customerDeactivatedDataSchema>;
export type CustomerReactivatedData = z.infer<typeof customerReactivatedDataSchema>;

/** Field paths first; shared by every aggregate's command validation. */
export { formatIssues as formatCustomerIssues } from '../../commons/domain/validation-issues.js';
