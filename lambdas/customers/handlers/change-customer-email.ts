/** PUT /customers/{customerId}/email → 200 {customerId, email}; 404 unknown; 409 inactive or unchanged. */
import * as z from 'zod';
import { repositoryFromEnv } from '../../commons/event-store/repository-from-env.js';
import { apiHandler } from '../../commons/http/api-handler.js';
import { idParameter, parseJsonBody, parseParameters } from '../../commons/http/request.js';
import { customerDecider } from '../domain/customer.js';
import { changeEmailBodySchema } from '../domain/customer-schemas.js';

const customers = repositoryFromEnv(customerDecider);
const pathSchema = z.object({ customerId: idParameter('customerId') });

export const handler = apiHandler(async ({ event, correlationId }) => {
  const { customerId } = parseParameters('path', event.pathParameters, pathSchema);
  const { email } = parseJsonBody(event, changeEmailBodySchema);
  await customers.handle(
    customerId,
    { type: 'ChangeEmail', data: { email } },
    { correlationId, causationId: correlationId },
  );
  return { statusCode: 200, body: { customerId, email } };
});
