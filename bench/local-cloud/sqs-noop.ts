import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** The benchmark's no-op SQS consumer: logs how long each record took from send to handler start. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const started = Date.now();
  for (const r of event.Records) console.log(`DELAY ${started - Number(r.body)}`);
  return { batchItemFailures: [] };
};
