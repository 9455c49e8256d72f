import { randomUUID } from 'node:crypto';
import { type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type AsyncInvokeConfig, invokeAsync } from './async-invoke.js';
import { type EventSource, type Invoker, type Log, sleep } from './types.js';

export interface SnsToLambdaConfig extends AsyncInvokeConfig {
  readonly topicArn: string;
  readonly region: string;
  readonly filterPolicy?: string;
  readonly filterPolicyScope?: string;
  /** Internal queue name; stable per subscription so restarts reuse it. */
  readonly bridgeQueueName: string;
}

interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
  UnsubscribeURL?: string;
}

/**
 * SNS-to-Lambda: the emulator cannot call our functions, so the runtime subscribes an internal
 * queue (same filter policy, envelope kept) and invokes the function asynchronously per message,
 * with the SNS event shape Lambda delivers.
 */
export class SnsToLambdaEventSource implements EventSource {
  readonly description: string;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private queueUrl?: string;
  private subscriptionArn = '';

  constructor(
    private readonly config: SnsToLambdaConfig,
    private readonly fn: Invoker,
    private readonly clients: { sns: SNSClient; sqs: SQSClient },
    private readonly log: Log,
  ) {
    this.description = `SNS ${config.topicArn.split(':').pop()} -> ${config.functionName}`;
  }

  /** Creates the bridge queue and subscription; call before start(). */
  async prepare(): Promise<void> {
    const { sqs, sns } = this.clients;
    this.queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: this.config.bridgeQueueName,
          Attributes: { VisibilityTimeout: '900' },
        }),
      )
    ).QueueUrl;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const attributes: Record<string, string> = {};
    if (this.config.filterPolicy) attributes.FilterPolicy = this.config.filterPolicy;
    if (this.config.filterPolicyScope) attributes.FilterPolicyScope = this.config.filterPolicyScope;
    const sub = await sns.send(
      new SubscribeCommand({
        TopicArn: this.config.topicArn,
        Protocol: 'sqs',
        Endpoint: attrs.Attributes?.QueueArn,
        Attributes: attributes,
        ReturnSubscriptionArn: true,
      }),
    );
    this.subscriptionArn = sub.SubscriptionArn ?? '';
  }

  start(): void {
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  private async poll(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let messages: Message[] | undefined;
      try {
        messages = (
          await this.clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: this.queueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
            }),
            { abortSignal: this.abort.signal },
          )
        ).Messages;
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.log(`${this.description}: ${(e as Error).message}`);
        await sleep(1000, this.abort.signal);
        continue;
      }
      await Promise.all(
        (messages ?? []).map(async (m) => {
          let envelope: SnsEnvelope;
          try {
            envelope = JSON.parse(m.Body ?? '') as SnsEnvelope;
          } catch {
            // Only SNS writes to the bridge queue; anything else can never be delivered.
            this.log(`${this.description}: dropping a bridge message that is not an SNS envelope: ${m.Body}`);
            await this.clients.sqs.send(
              new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }),
            );
            return;
          }
          const event = {
            Records: [
              {
                EventSource: 'aws:sns',
                EventVersion: '1.0',
                EventSubscriptionArn: this.subscriptionArn || `${this.config.topicArn}:${randomUUID()}`,
                Sns: {
                  Type: envelope.Type ?? 'Notification',
                  MessageId: envelope.MessageId,
                  TopicArn: envelope.TopicArn ?? this.config.topicArn,
                  Subject: envelope.Subject ?? null,
                  Message: envelope.Message,
                  Timestamp: envelope.Timestamp,
                  SignatureVersion: envelope.SignatureVersion ?? '1',
                  Signature: envelope.Signature ?? 'local',
                  SigningCertUrl: envelope.SigningCertURL ?? '',
                  UnsubscribeUrl: envelope.UnsubscribeURL ?? '',
                  MessageAttributes: envelope.MessageAttributes ?? {},
                },
              },
            ],
          };
          // The message is handed over: Lambda owns retries of asynchronous invocations from here.
          await this.clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }),
          );
          await invokeAsync(this.fn, event, this.config, this.log).catch((e: Error) =>
            this.log(`${this.description}: ${e.message}`),
          );
        }),
      );
    }
  }
}
