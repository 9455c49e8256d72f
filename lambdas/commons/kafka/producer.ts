/**
 * The platform's Kafka producer: idempotent (no duplicate or reordered writes on the producer's
 * retries), acks from all in-sync replicas, gzip-compressed batches, string keys and values.
 * One per container; a send carries many messages in one request per partition leader.
 */
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { clientOptions, type KafkaConnection } from './connection.js';

export interface OutgoingMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type PlatformProducer = Producer<string, string, string, string>;

export function createProducer(connection: KafkaConnection, clientId: string): PlatformProducer {
  return new Producer({
    ...clientOptions(connection, clientId),
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: 'gzip',
    retries: 5,
    autocreateTopics: false,
  });
}

/** Sends the messages in one batched call; resolves once every one is acknowledged. */
export async function produce(
  producer: PlatformProducer,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  await producer.send({
    messages: messages.map((m) => ({
      topic: m.topic,
      key: m.key,
      value: m.value,
      ...(m.headers ? { headers: { ...m.headers } } : {}),
    })),
  });
}
