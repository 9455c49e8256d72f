/**
 * The deterministic test provider made observable and idempotent the way a real provider is: each
 * charge is recorded in the operational-state table under `test-charge#<idempotency key>` (order,
 * amount, currency, payment id, and `calls`: how many charge requests carried that key), so that
 * tests and the fault-injection ledger can count the charges a run made. A request with a key
 * already charged charges nothing and answers the first charge's id, as the HTTP provider's
 * `Idempotency-Key` does. Declines and transient failures charge nothing and are not recorded.
 * Records expire after a week (the table's TTL attribute): they are a test ledger, not a book.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { OPERATIONAL_STATE_KEY } from '../../commons/resilience/table-schema.js';
import type {
  ChargeContext,
  ChargeRequest,
  ChargeResult,
  PaymentProvider,
} from '../domain/payment-provider.js';

export const TEST_CHARGE_PREFIX = 'test-charge#';
const RETENTION_SECONDS = 7 * 24 * 3600;

export class RecordingPaymentProvider implements PaymentProvider {
  constructor(
    private readonly inner: PaymentProvider,
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(request: ChargeRequest) {
    return { [OPERATIONAL_STATE_KEY]: `${TEST_CHARGE_PREFIX}${request.idempotencyKey}` };
  }

  /** The existing charge of this key (its request counted), or undefined. */
  private async replay(request: ChargeRequest): Promise<ChargeResult | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(request), ConsistentRead: true }),
    );
    if (typeof Item?.paymentId !== 'string') return undefined;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(request),
        UpdateExpression: 'ADD calls :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    return { paymentId: Item.paymentId };
  }

  async charge(request: ChargeRequest, context: ChargeContext): Promise<ChargeResult> {
    const replayed = await this.replay(request);
    if (replayed) return replayed;
    const result = await this.inner.charge(request, context);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(request),
            orderId: request.orderId,
            amount: request.amount,
            currency: request.currency,
            paymentId: result.paymentId,
            calls: 1,
            chargedAt: new Date().toISOString(),
            expiresAt: Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': OPERATIONAL_STATE_KEY },
        }),
      );
      return result;
    } catch (error) {
      // A concurrent request with the same key charged first: answer its charge, as the provider would.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return (await this.replay(request)) ?? result;
    }
  }
}
