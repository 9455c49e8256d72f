/** The S3 client of a container, created on first use and traced. */
import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '../powertools.js';

let s3: S3Client | undefined;

export function s3Client(): S3Client {
  // Path-style addressing works with every endpoint (AWS, LocalStack, moto).
  s3 ??= tracer.captureAWSv3Client(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));
  return s3;
}
