/** POST /customers/{customerId}/reactivate → 200 {customerId, status}; 404 unknown; 409 already active. */
import * as z from 'zod';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { customerDecider } from '../domain/customer.js';
import { reactivateCustomerCommandSchema } from '../domain/customer-schemas.js';

const customers = repositoryFromEnv(customerDecider);
const pathSchema = z.object({ customerId: idParameter('customerId') });

export const handler = apiHandler(async ({ event, correlationId }) => {
  const { customerId } = parseParameters('path', event.pathParameters, pathSchema);
  const data = parseJsonBody(event, reactivateCustomerCommandSchema, { emptyAs: {} });
  await customers.handle(
    customerId,
    { type: 'ReactivateCustomer', data },
    { correlationId, causationId: correlationId },
  );
  return { statusCode: 200, body: { customerId, status: 'ACTIVE' } };
});
