/**
 * Proves each local engine is the real thing, not a port that merely answers: every test drives the
 * engine's own protocol end to end. Names are unique per run, since the engines outlive test runs.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';

const engines = inject('engines');
const unique = (prefix: string) => `${prefix}-${randomUUID()}`;

const aws = {
  endpoint: engines.awsEndpointUrl,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
};

describe('global setup', () => {
  it('points the AWS SDK environment at the local endpoint', () => {
    // GIVEN the integration global setup ran
    // THEN workers see the endpoint and a region in their environment
    expect(process.env.AWS_ENDPOINT_URL).toBe(engines.awsEndpointUrl);
    expect(process.env.AWS_REGION).toBeTruthy();
  });
});

describe('Redis', () => {
  const producer = new Redis(engines.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const consumer = new Redis(engines.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await Promise.all([producer.quit(), consumer.quit()]);
  });

  it('round-trips a message through a list with a blocking pop', async () => {
    // GIVEN a consumer blocked on an empty, uniquely named list
    const key = unique('it:queue');
    const popped = consumer.brpop(key, 5);

    // WHEN a producer pushes a message on another connection
    await producer.lpush(key, 'hello');

    // THEN the blocked consumer receives exactly that message, and the list is left empty
    expect(await popped).toEqual([key, 'hello']);
    expect(await producer.llen(key)).toBe(0);
  });

  it('reports a server version', async () => {
    // WHEN asking the server about itself
    const info = await producer.info('server');

    // THEN it is a Redis server that states its version
    expect(info).toMatch(/^redis_version:\d+\.\d+/m);
  });
});

describe('RabbitMQ', () => {
  it('confirms a persistent message and removes it from the queue once acked', async () => {
    const connection = await amqp.connect(engines.rabbitmqUrl);
    const queue = unique('it.queue');
    try {
      // GIVEN a durable queue and a confirm channel
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true });
      const body = JSON.stringify({ orderId: randomUUID() });

      // WHEN a persistent message is published and the broker confirms it
      await new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          queue,
          Buffer.from(body),
          { persistent: true, contentType: 'application/json' },
          (err) => (err ? reject(err) : resolve()),
        );
      });
      expect((await channel.checkQueue(queue)).messageCount).toBe(1);

      // AND a consumer with manual acks receives and acks it
      const received = await new Promise<amqp.ConsumeMessage>((resolve, reject) => {
        channel
          .consume(queue, (msg) => (msg ? resolve(msg) : reject(new Error('consumer cancelled'))), {
            noAck: false,
          })
          .catch(reject);
      });
      expect(received.content.toString()).toBe(body);
      expect(received.properties.deliveryMode).toBe(2);
      channel.ack(received);
      // Closing the channel would requeue an unacked message: an empty queue afterwards proves the ack.
      await channel.close();

      // THEN the queue is empty
      const check = await connection.createChannel();
      expect((await check.checkQueue(queue)).messageCount).toBe(0);
      await check.deleteQueue(queue);
      await check.close();
    } finally {
      await connection.close();
    }
  });
});

describe('Kafka', () => {
  it('commits the consumer group offsets of everything it consumed', async () => {
    const kafka = new Kafka({
      clientId: 'engines-it',
      brokers: engines.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const topic = unique('it.orders');
    const groupId = unique('it-group');
    // A short fetch long-poll: disconnect waits for the fetch in flight (5 s by default).
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    try {
      // GIVEN a new topic with 2 partitions
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
        waitForLeaders: true,
      });

      // WHEN 5 keyed messages are produced with acks from all in-sync replicas, 3 to partition 0 and 2 to 1
      const messages = [0, 1, 2, 3, 4].map((i) => ({
        key: `order-${i}`,
        value: JSON.stringify({ i }),
        partition: i % 2,
      }));
      await producer.connect();
      await producer.send({ topic, acks: -1, messages });

      // AND a consumer group reads them all and commits what it read
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: { key: string; partition: number; offset: string }[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              seen.push({ key: message.key?.toString() ?? '', partition, offset: message.offset });
              if (seen.length === messages.length) resolve();
            },
          })
          .catch(reject);
      });
      const next = new Map<number, number>();
      for (const m of seen) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, Number(m.offset) + 1));
      await consumer.commitOffsets(
        [...next].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
      );

      // THEN every key was consumed once and the group's committed offsets equal the produced counts
      expect(seen.map((m) => m.key).sort()).toEqual(messages.map((m) => m.key).sort());
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const offsets = Object.fromEntries(committed?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      expect(offsets).toEqual({ 0: '3', 1: '2' });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe('SQS on moto', () => {
  const sqs = new SQSClient(aws);
  afterAll(() => sqs.destroy());

  it('sends, receives and deletes a message', async () => {
    // GIVEN a new queue
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('it-queue') }));
    try {
      // WHEN a message is sent and received
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'ping' }));
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      expect(Messages?.map((m) => m.Body)).toEqual(['ping']);

      // AND deleted with its receipt handle
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle }));

      // THEN the queue holds no message, neither visible nor in flight
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      expect(Attributes).toMatchObject({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
      });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });
});

describe('SNS to SQS on moto', () => {
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  afterAll(() => {
    sns.destroy();
    sqs.destroy();
  });

  /** A queue that lets the topic (and only it) send to it, as AWS requires. */
  async function subscribedQueue(topicArn: string, filterPolicy?: object) {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('it-sub') }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
        },
      ],
    };
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: {
          RawMessageDelivery: 'true',
          ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}),
        },
      }),
    );
    return QueueUrl ?? '';
  }

  /** Receives until `expected` messages arrived, then once more briefly to catch any extra one. */
  async function drain(QueueUrl: string, expected: number): Promise<Message[]> {
    const received: Message[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const waitSeconds = received.length >= expected ? 1 : 2;
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
        }),
      );
      received.push(...Messages);
      if (received.length >= expected && Messages.length === 0) break;
    }
    return received;
  }

  it('delivers raw messages, and only matching ones to the filtered subscription', async () => {
    // GIVEN a topic with two raw-delivery subscriptions, one filtered on eventType = OrderPlaced
    const { TopicArn = '' } = await sns.send(new CreateTopicCommand({ Name: unique('it-topic') }));
    const filtered = await subscribedQueue(TopicArn, { eventType: ['OrderPlaced'] });
    const unfiltered = await subscribedQueue(TopicArn);
    try {
      // WHEN one matching and one non-matching event are published
      const publish = (eventType: string) =>
        sns.send(
          new PublishCommand({
            TopicArn,
            Message: JSON.stringify({ eventType, orderId: randomUUID() }),
            MessageAttributes: { eventType: { DataType: 'String', StringValue: eventType } },
          }),
        );
      await publish('OrderPlaced');
      await publish('OrderCancelled');

      // THEN the unfiltered queue gets both, as raw bodies (no SNS envelope)
      const all = await drain(unfiltered, 2);
      const allTypes = all.map((m) => (JSON.parse(m.Body ?? '{}') as { eventType?: string }).eventType);
      expect(allTypes.sort()).toEqual(['OrderCancelled', 'OrderPlaced']);

      // AND the filtered queue gets only the matching one, its attribute carried along
      const matching = await drain(filtered, 1);
      expect(matching).toHaveLength(1);
      expect(JSON.parse(matching[0]?.Body ?? '{}')).toMatchObject({ eventType: 'OrderPlaced' });
      expect(matching[0]?.MessageAttributes?.eventType?.StringValue).toBe('OrderPlaced');
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: filtered }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: unfiltered }));
      await sns.send(new DeleteTopicCommand({ TopicArn }));
    }
  });
});

describe('DynamoDB on moto', () => {
  const dynamodb = new DynamoDBClient(aws);
  afterAll(() => dynamodb.destroy());

  it('enforces a conditional put and queries the item back', async () => {
    // GIVEN a new table keyed by pk/sk
    const TableName = unique('it-table');
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    try {
      const put = (status: string) =>
        dynamodb.send(
          new PutItemCommand({
            TableName,
            Item: { pk: { S: 'ORDER#1' }, sk: { S: 'META' }, status: { S: status } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );

      // WHEN the same item is put twice under attribute_not_exists
      await put('PLACED');
      const second = put('DUPLICATE');

      // THEN the second put is rejected and the first one's item is what a query returns
      await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      const { Items } = await dynamodb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'ORDER#1' } },
        }),
      );
      expect(Items).toEqual([{ pk: { S: 'ORDER#1' }, sk: { S: 'META' }, status: { S: 'PLACED' } }]);
    } finally {
      await dynamodb.send(new DeleteTableCommand({ TableName }));
    }
  });
});
