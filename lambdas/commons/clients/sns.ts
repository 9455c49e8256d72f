/** The SNS client of a container, created on first use and traced. */
import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '../powertools.js';

let sns: SNSClient | undefined;

export function snsClient(): SNSClient {
  sns ??= tracer.captureAWSv3Client(new SNSClient({}));
  return sns;
}
