import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { median, round } from './stats.js';
import type { BenchSuite } from './types.js';

const RECORDS = 10_000;
const BATCH = 10;

function record(i: number): SQSRecord {
  return {
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body: JSON.stringify({ i }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
    awsRegion: 'us-east-1',
  };
}

/**
 * `batch.overheadUsPerRecord`: what Powertools' BatchProcessor (partial batch responses, as every
 * SQS consumer of the platform uses it) adds per record over a bare loop calling the same handler,
 * in the same process, on batches of 10.
 */
export const batchSuite: BenchSuite = {
  name: 'batch',
  description: 'per-record overhead of the Powertools batch processor against a bare loop',
  async run(ctx) {
    const batches: SQSEvent[] = [];
    for (let i = 0; i < RECORDS; i += BATCH) {
      batches.push({ Records: Array.from({ length: BATCH }, (_, n) => record(i + n)) });
    }
    let sink = 0;
    const handle = async (r: SQSRecord) => {
      sink += (JSON.parse(r.body) as { i: number }).i;
    };
    const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
    const processor = new BatchProcessor(EventType.SQS);
    const bare = async () => {
      for (const event of batches) {
        const failures: { itemIdentifier: string }[] = [];
        for (const r of event.Records) {
          try {
            await handle(r);
          } catch {
            failures.push({ itemIdentifier: r.messageId });
          }
        }
      }
    };
    const powertools = async () => {
      for (const event of batches) await processPartialResponse(event, handle, processor, { context });
    };
    const time = async (fn: () => Promise<void>) => {
      const t0 = performance.now();
      await fn();
      return ((performance.now() - t0) * 1000) / RECORDS;
    };
    ctx.log(`batch: ${RECORDS} records in batches of ${BATCH}, ${ctx.runs} runs each`);
    await bare();
    await powertools();
    const bareUs: number[] = [];
    const ptUs: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      bareUs.push(await time(bare));
      ptUs.push(await time(powertools));
    }
    if (sink < 0) throw new Error('unreachable');
    const overhead = median(ptUs) - median(bareUs);
    return {
      overheadUsPerRecord: {
        value: round(overhead, 2),
        unit: 'µs/record',
        baseline: round(median(bareUs), 2),
      },
      processorUsPerRecord: { value: round(median(ptUs), 2), unit: 'µs/record' },
    };
  },
};
