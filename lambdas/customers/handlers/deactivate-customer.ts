/** POST /customers/{customerId}/deactivate → 200 {customerId, status}; 404 unknown; 409 already inactive. */
import * as z from 'zod';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { customerDecider } from '../domain/customer.js';
import { deactivateCustomerCommandSchema } from '../domain/customer-schemas.js';

const customers = repositoryFromEnv(customerDecider);
const pathSchema = z.object({ customerId: idParameter('customerId') });

export const handler = apiHandler(async ({ event, correlationId }) => {
  const { customerId } = parseParameters('path', event.pathParameters, pathSchema);
  const data = parseJsonBody(event, deactivateCustomerCommandSchema, { emptyAs: {} });
  await customers.handle(
    customerId,
    { type: 'DeactivateCustomer', data },
    { correlationId, causationId: correlationId },
  );
  return { statusCode: 200, body: { customerId, status: 'INACTIVE' } };
});
