/** The SQS client of a container, created on first use and traced. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../powertools.js';

let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= tracer.captureAWSv3Client(new SQSClient({}));
  return sqs;
}
