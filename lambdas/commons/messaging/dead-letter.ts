/**
 * Dead-lettering an SQS record by hand, with the reason: what the consumers do with a message no
 * retry can mend (not JSON, not the expected shape), or on its last allowed attempt, so that the
 * DLQ holds the reason beside the untouched body (`npm run dlq -- list` shows it).
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../clients/sqs.js';

/** SQS message attributes stop at 256 KB together; a reason longer than this is cut. */
const MAX_REASON_LENGTH = 1000;

export async function sendToDeadLetterQueue(
  deadLetterQueueUrl: string,
  record: SQSRecord,
  reason: string,
  options: { correlationId?: string } = {},
): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_LENGTH) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
        sourceQueue: { DataType: 'String', StringValue: record.eventSourceARN },
        ...(options.correlationId
          ? { correlationId: { DataType: 'String', StringValue: options.correlationId } }
          : {}),
      },
    }),
  );
}
