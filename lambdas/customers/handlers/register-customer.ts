/** POST /customers → 201 {customerId}: registers a new customer under a server-assigned id. */
import { randomUUID } from 'node:crypto';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { parseJsonBody } from '../../commons/http/request.js';
import { customerDecider } from '../domain/customer.js';
import { registerCustomerBodySchema } from '../domain/customer-schemas.js';

const customers = repositoryFromEnv(customerDecider);

export const handler = apiHandler(async ({ event, correlationId }) => {
  const body = parseJsonBody(event, registerCustomerBodySchema);
  const customerId = randomUUID();
  await customers.handle(
    customerId,
    { type: 'RegisterCustomer', data: { ...body, customerId } },
    { correlationId, causationId: correlationId },
  );
  return { statusCode: 201, body: { customerId }, headers: { location: `/customers/${customerId}` } };
});
