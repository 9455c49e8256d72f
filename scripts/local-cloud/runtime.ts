import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { AlarmEmulator, type LocalAlarm } from './alarms/alarm-actions.js';
import { LocalApiGateway, type Route, readRestApis } from './api-gateway.js';
import { assetPathOf, readAssembly, resourcesOfType, type StackArtifact } from './assembly.js';
import { JwtIssuer } from './auth/jwt-issuer.js';
import { LocalControlPlane } from './control-plane.js';
import {
  CustomResourceError,
  type CustomResourceRecord,
  type CustomResourceRequestType,
  type CustomResourceStore,
  cdkFrameworkHandler,
  cloudFormationProperties,
  FileCustomResourceStore,
  MemoryCustomResourceStore,
  ResponseEndpoint,
  sendCustomResourceRequest,
} from './custom-resources.js';
import { type CheckpointStore, FileCheckpointStore } from './event-sources/checkpoints.js';
import { DynamoDbStreamEventSource } from './event-sources/dynamodb-streams.js';
import { parseFilterCriteria } from './event-sources/filter.js';
import { KafkaEventSource } from './event-sources/kafka.js';
import { RabbitMqEventSource } from './event-sources/rabbitmq.js';
import { ScheduleEventSource } from './event-sources/schedule.js';
import { SnsToLambdaEventSource } from './event-sources/sns-to-lambda.js';
import { SqsEventSource } from './event-sources/sqs.js';
import type { EventSource, Invoker } from './event-sources/types.js';
import { type ResolveContext, resolve, UnresolvableError } from './intrinsics.js';
import { type FunctionSpec, LocalFunction } from './lambda/local-function.js';
import {
  type AwsTarget,
  attributeOf,
  awsClients,
  type Clients,
  type CustomResourceArgs,
  type Finding,
  LOCAL_ALARM,
  type LocalEngines,
  provision,
} from './provision.js';
import { Registry, type ResourceState } from './registry.js';

export interface LocalCloudOptions {
  /** The cloud assembly to run. @default 'cdk.out' */
  readonly assemblyDir?: string;
  readonly target: AwsTarget;
  /** HTTP port of the REST APIs; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Concurrency cap for functions without reserved concurrency. @default 10 */
  readonly defaultConcurrency?: number;
  /** Extra environment given to every function (engine endpoints, for instance). */
  readonly environment?: Record<string, string>;
  /** Local engines standing in for MSK, ElastiCache and Amazon MQ. */
  readonly engines?: LocalEngines;
  readonly log?: (line: string) => void;
  /** Logs of the functions, prefixed with their name. */
  readonly functionLog?: (fn: string, line: string) => void;
  /**
   * Where stream mappings keep their positions across restarts (as Lambda does), so a restart
   * does not replay the stream's history. `false` starts every mapping at its starting position.
   * @default '.local-cloud/stream-checkpoints.json'
   */
  readonly streamCheckpoints?: string | false;
  /**
   * Where Lambda-backed custom resources keep what was last applied (properties, physical id)
   * across restarts, as a stack does: a custom resource recorded there gets an Update at the next
   * start, one removed from its stack a Delete. `false` keeps it in memory: every start creates.
   * @default '.local-cloud/custom-resources.json'
   */
  readonly customResourceState?: string | false;
  /**
   * How often the CloudWatch alarms the local cloud created are read (DescribeAlarms): composite
   * alarm rules are evaluated and, on each state change, the SNS actions of the new state are sent
   * CloudWatch's notification. `false` turns both off.
   * @default LOCAL_CLOUD_ALARM_POLL_MS from the environment (milliseconds, or `off`), else 1000
   */
  readonly alarmPollIntervalMs?: number | false;
}

/** `LOCAL_CLOUD_ALARM_POLL_MS`: milliseconds between alarm polls, or `off`; 1000 when unset. */
function alarmPollFromEnvironment(): number | false {
  const value = process.env.LOCAL_CLOUD_ALARM_POLL_MS?.trim();
  if (!value) return 1000;
  if (/^(off|false|0)$/i.test(value)) return false;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`LOCAL_CLOUD_ALARM_POLL_MS: ${value} is not a number of milliseconds`);
  return ms;
}

/** A request sent to a Lambda-backed custom resource during start-up, and how it ended. */
export interface AppliedCustomResource {
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly requestType: CustomResourceRequestType;
  /** The physical id answered (or, for a Delete, the one deleted). */
  readonly physicalResourceId: string;
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
}

/**
 * Time given to a custom resource's function beyond its own timeout to answer: a cold start
 * (init is limited to 10 s, apart from the timeout) and the response on its way.
 */
const CUSTOM_RESOURCE_MARGIN_MS = 15_000;

export interface LocalFunctionInfo {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly fn: LocalFunction;
}

/**
 * The local cloud: reads a cloud assembly, provisions what it describes on an AWS-compatible
 * endpoint, runs every Node.js function from its bundled asset, emulates its event source
 * mappings and serves its REST APIs. It knows templates, never the application.
 */
/** Where `npm start` writes the stacks' outputs (the shape of `cdk deploy --outputs-file`). */
export const LOCAL_OUTPUTS_FILE = '.local-cloud/outputs.json';

export class LocalCloud {
  readonly functions = new Map<string, LocalFunctionInfo>();
  readonly eventSources: EventSource[] = [];
  readonly unsupported: Finding[] = [];
  /** AWS control-plane calls for the engines that stand in for managed services (MSK). */
  private readonly controlPlane: LocalControlPlane;
  /** Alarm actions and composite alarm rules; undefined when `alarmPollIntervalMs` is false. */
  alarms?: AlarmEmulator;
  /** Requests sent to Lambda-backed custom resources during start-up, in order. */
  readonly customResources: AppliedCustomResource[] = [];
  url = '';
  routes: Route[] = [];
  private api?: LocalApiGateway;
  private registry?: Registry;
  readonly clients: Clients;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: LocalCloudOptions) {
    this.clients = awsClients(options.target);
    this.controlPlane = new LocalControlPlane(() => this.registry, options.target.endpoint);
    this.log = options.log ?? ((line) => console.error(`[local-cloud] ${line}`));
  }

  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    try {
      await cloud.boot();
    } catch (e) {
      await cloud.stop();
      throw e;
    }
    return cloud;
  }

  private checkpoints?: CheckpointStore;
  /** Functions built so far by `stack/logicalId`; undefined for those that are not run locally. */
  private readonly built = new Map<string, LocalFunctionInfo | undefined>();
  private stacks: StackArtifact[] = [];
  private customResourceStore?: CustomResourceStore;
  private responses?: ResponseEndpoint;
  /** Old physical ids replaced by an Update, deleted once their stack is provisioned. */
  private readonly replaced: CustomResourceRecord[] = [];

  private checkpointStore(): CheckpointStore | undefined {
    const file = this.options.streamCheckpoints ?? '.local-cloud/stream-checkpoints.json';
    if (file === false) return undefined;
    this.checkpoints ??= new FileCheckpointStore(file);
    return this.checkpoints;
  }

  get resources(): Registry {
    if (!this.registry) throw new Error('local cloud not started');
    return this.registry;
  }

  /** A function by name, logical id or `stack/logicalId`. */
  fn(id: string): LocalFunction {
    for (const info of this.functions.values()) {
      if (info.name === id || info.logicalId === id || `${info.stackName}/${info.logicalId}` === id)
        return info.fn;
    }
    for (const info of this.functions.values()) if (info.logicalId.startsWith(id)) return info.fn;
    throw new Error(
      `no function ${id}; known: ${[...this.functions.values()].map((f) => f.logicalId).join(', ')}`,
    );
  }

  private context(stack: StackArtifact): ResolveContext {
    const registry = this.resources;
    const { region, accountId } = this.options.target;
    return {
      stackName: stack.stackName,
      region,
      accountId,
      ref: (id) =>
        registry.get(stack.stackName, id)?.ref ?? stack.template.Parameters?.[id]?.Default?.toString(),
      getAtt: (id, attr) => attributeOf(registry.get(stack.stackName, id), attr),
      importValue: (name) => registry.exports.get(name),
      stackOutput: (stack, output) => registry.outputs[stack]?.[output],
    };
  }

  private async boot(): Promise<void> {
    const { target } = this.options;
    const stacks = readAssembly(this.options.assemblyDir ?? 'cdk.out');
    this.stacks = stacks;
    this.registry = new Registry();
    await this.controlPlane.listen();
    try {
      const result = await provision(stacks, target, {
        clients: this.clients,
        log: this.log,
        engines: this.options.engines,
        registry: this.registry,
        customResource: (args) => this.applyCustomResource(args),
        afterStack: (stack) => this.cleanUpCustomResources(stack),
      });
      this.unsupported.push(...result.unsupported);
    } finally {
      await this.responses?.close();
      this.responses = undefined;
    }

    for (const stack of stacks) this.startFunctions(stack);
    for (const stack of stacks) await this.startEventSources(stack);
    for (const stack of stacks)
      this.routes.push(...readRestApis(stack, this.context(stack), this.unsupported));

    for (const f of this.unsupported) {
      this.log(`unsupported: ${f.stackName}/${f.logicalId} (${f.type}): ${f.message}`);
    }
    for (const source of this.eventSources) source.start();
    this.startAlarms();
    if (this.routes.length > 0) {
      const conflicts = new Map<string, Route>();
      for (const r of this.routes) {
        const key = `${r.httpMethod} ${r.resourcePath.replace(/\{[^}]+\}/g, '{}')}`;
        const other = conflicts.get(key);
        if (other && other.apiId !== r.apiId) {
          this.log(`route ${key} is served by ${other.apiName}; ${r.apiName}'s is shadowed`);
        }
        conflicts.set(key, r);
      }
      const arns = new Map([...this.functions.values()].map((f) => [f.arn, f.fn]));
      this.api = new LocalApiGateway({
        routes: this.routes,
        functionByArn: (arn) => arns.get(arn),
        issuer: new JwtIssuer(),
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
        },
        accountId: target.accountId,
        region: target.region,
        log: this.log,
      });
      this.url = await this.api.listen(this.options.port ?? 3000);
    }
  }

  /** The CloudWatch alarms the local cloud created, watched for state changes. */
  private localAlarms(): LocalAlarm[] {
    const registry = this.resources;
    return [
      ...registry
        .ofType('AWS::CloudWatch::Alarm')
        .filter((a) => a.attrs[LOCAL_ALARM] === true)
        .map((a) => ({ name: a.ref })),
      ...registry
        .ofType('AWS::CloudWatch::CompositeAlarm')
        .filter((a) => a.attrs[LOCAL_ALARM] === true)
        .map((a) => ({ name: a.ref, rule: String(a.attrs.AlarmRule ?? '') })),
    ];
  }

  private startAlarms(): void {
    const every = this.options.alarmPollIntervalMs ?? alarmPollFromEnvironment();
    if (every === false || this.localAlarms().length === 0) return;
    const { region, accountId } = this.options.target;
    this.alarms = new AlarmEmulator(
      { region, accountId, pollIntervalMs: every, alarms: () => this.localAlarms() },
      this.clients,
      this.log,
    );
    this.alarms.start();
  }

  private startFunctions(stack: StackArtifact): void {
    for (const [logicalId] of resourcesOfType(stack, 'AWS::Lambda::Function')) {
      const info = this.localFunction(stack, logicalId);
      if (!info) continue;
      // In template order, whether or not a custom resource started it earlier.
      const key = `${stack.stackName}/${logicalId}`;
      this.functions.delete(key);
      this.functions.set(key, info);
    }
  }

  /**
   * The local function of an `AWS::Lambda::Function` of the assembly, built once from its asset and
   * its environment resolved against what is provisioned; undefined (with a finding) when it is not
   * run locally. Used for every function at start and, earlier, for those behind custom resources.
   */
  private localFunction(stack: StackArtifact, logicalId: string): LocalFunctionInfo | undefined {
    const key = `${stack.stackName}/${logicalId}`;
    if (this.built.has(key)) return this.built.get(key);
    const info = this.buildFunction(stack, logicalId);
    this.built.set(key, info);
    if (info) this.functions.set(key, info);
    return info;
  }

  private buildFunction(stack: StackArtifact, logicalId: string): LocalFunctionInfo | undefined {
    const resource = stack.template.Resources[logicalId];
    if (resource?.Type !== 'AWS::Lambda::Function') return undefined;
    const ctx = this.context(stack);
    const { target } = this.options;
    const p = resource.Properties ?? {};
    const finding = { stackName: stack.stackName, logicalId, type: resource.Type };
    const runtime = String(p.Runtime ?? '');
    if (!runtime.startsWith('nodejs')) {
      this.unsupported.push({
        ...finding,
        message: `runtime ${runtime || '(image)'} is not run locally (Node.js only)`,
      });
      return undefined;
    }
    const assetDir = assetPathOf(stack, resource);
    if (!assetDir || !existsSync(assetDir)) {
      this.unsupported.push({
        ...finding,
        message: 'code is not a local asset (inline or S3 code is not run)',
      });
      return undefined;
    }
    const environment: Record<string, string> = {};
    const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(variables)) {
      try {
        environment[key] = String(resolve(value, ctx, `${logicalId}.Environment.Variables.${key}`));
      } catch (e) {
        if (!(e instanceof UnresolvableError)) throw e;
        this.unsupported.push({ ...finding, message: `environment variable ${key}: ${e.message}` });
      }
    }
    const state = this.resources.get(stack.stackName, logicalId);
    const name = state?.ref ?? logicalId;
    const spec: FunctionSpec = {
      name,
      assetDir,
      handler: String(p.Handler ?? 'index.handler'),
      timeoutSeconds: Number(p.Timeout ?? 3),
      memoryMb: Number(p.MemorySize ?? 128),
      reservedConcurrency:
        p.ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions),
      region: target.region,
      accountId: target.accountId,
      environment: {
        AWS_ENDPOINT_URL: target.endpoint,
        ...this.controlPlane.environment,
        ...this.options.environment,
        ...environment,
      },
    };
    const fn = new LocalFunction(spec, {
      defaultConcurrency: this.options.defaultConcurrency ?? 10,
      log: this.options.functionLog,
    });
    return {
      stackName: stack.stackName,
      logicalId,
      name,
      arn: String(state?.attrs.Arn ?? ''),
      fn,
    };
  }

  private customResourceState(): CustomResourceStore {
    const file = this.options.customResourceState ?? '.local-cloud/custom-resources.json';
    this.customResourceStore ??=
      file === false ? new MemoryCustomResourceStore() : new FileCustomResourceStore(file);
    return this.customResourceStore;
  }

  /**
   * The function a custom resource's ServiceToken names, when it is a function of the assembly
   * that runs locally and not one of aws-cdk-lib's own handlers (those stay stand-ins).
   */
  private serviceFunction(serviceToken: unknown): LocalFunctionInfo | undefined {
    if (typeof serviceToken !== 'string' || serviceToken === '') return undefined;
    const target = this.resources.findByArnOrRef(serviceToken);
    if (target?.type !== 'AWS::Lambda::Function' || target.attrs.Arn !== serviceToken) return undefined;
    const stack = this.stacks.find((s) => s.stackName === target.stackName);
    const resource = stack?.template.Resources[target.logicalId];
    if (!stack || !resource || cdkFrameworkHandler(target.logicalId, resource)) return undefined;
    return this.localFunction(stack, target.logicalId);
  }

  private stackId(stack: StackArtifact): string {
    return String(resolve({ Ref: 'AWS::StackId' }, this.context(stack)));
  }

  /** Sends one request; the outcome is recorded in `customResources` and logged. */
  private async sendCustomResource(
    fnInfo: LocalFunctionInfo,
    stack: StackArtifact,
    request: {
      RequestType: CustomResourceRequestType;
      ServiceToken: string;
      ResourceType: string;
      LogicalResourceId: string;
      PhysicalResourceId?: string;
      ResourceProperties: Record<string, unknown>;
      OldResourceProperties?: Record<string, unknown>;
    },
  ) {
    this.responses ??= new ResponseEndpoint();
    const outcome = await sendCustomResourceRequest(
      { ...request, StackId: this.stackId(stack) },
      {
        invoke: (event) => fnInfo.fn.invoke(event),
        endpoint: this.responses,
        timeoutMs: fnInfo.fn.spec.timeoutSeconds * 1000 + CUSTOM_RESOURCE_MARGIN_MS,
      },
    );
    const physicalResourceId = outcome.ok
      ? outcome.response.PhysicalResourceId || (request.PhysicalResourceId ?? '')
      : (request.PhysicalResourceId ?? '');
    const applied: AppliedCustomResource = {
      stackName: stack.stackName,
      logicalId: request.LogicalResourceId,
      resourceType: request.ResourceType,
      requestType: request.RequestType,
      physicalResourceId,
      status: outcome.ok ? 'SUCCESS' : 'FAILED',
      ...(outcome.ok ? {} : { reason: outcome.reason }),
    };
    this.customResources.push(applied);
    this.log(
      `custom resource ${stack.stackName}/${request.LogicalResourceId} (${request.ResourceType}): ` +
        `${request.RequestType} ${applied.status}${physicalResourceId ? ` ${physicalResourceId}` : ''}` +
        `${outcome.ok ? '' : `: ${outcome.reason}`}`,
    );
    return outcome;
  }

  /** Runs a custom resource backed by a local function: Create, or Update of what was recorded. */
  private async applyCustomResource(args: CustomResourceArgs): Promise<ResourceState | undefined> {
    const { stack, logicalId, resource, props } = args;
    const fnInfo = this.serviceFunction(props.ServiceToken);
    if (!fnInfo) return undefined;
    const store = this.customResourceState();
    const previous = store.get(stack.stackName, logicalId);
    // Another type under the same logical id is another resource: created, the old one deleted.
    const record = previous?.resourceType === resource.Type ? previous : undefined;
    const serviceToken = String(props.ServiceToken);
    const properties = cloudFormationProperties(props) as Record<string, unknown>;
    const outcome = await this.sendCustomResource(fnInfo, stack, {
      RequestType: record ? 'Update' : 'Create',
      ServiceToken: serviceToken,
      ResourceType: resource.Type,
      LogicalResourceId: logicalId,
      ResourceProperties: properties,
      ...(record
        ? { PhysicalResourceId: record.physicalResourceId, OldResourceProperties: record.properties }
        : {}),
    });
    if (!outcome.ok) {
      throw new CustomResourceError(
        stack.stackName,
        logicalId,
        resource.Type,
        record ? 'Update' : 'Create',
        outcome.reason,
      );
    }
    const physicalResourceId = outcome.response.PhysicalResourceId;
    store.set({
      stackName: stack.stackName,
      logicalId,
      resourceType: resource.Type,
      serviceToken,
      physicalResourceId,
      properties,
    });
    // A new physical id replaces the resource: CloudFormation deletes the old one after the update.
    if (previous && (previous !== record || previous.physicalResourceId !== physicalResourceId)) {
      this.replaced.push(previous);
    }
    return { type: resource.Type, ref: physicalResourceId, attrs: { ...(outcome.response.Data ?? {}) } };
  }

  /**
   * CloudFormation's clean-up of a stack: Deletes for the physical ids replaced by an Update and for
   * the custom resources recorded earlier that the stack no longer has. A failed Delete is logged.
   */
  private async cleanUpCustomResources(stack: StackArtifact): Promise<void> {
    const replaced = this.replaced.filter((r) => r.stackName === stack.stackName);
    const store = this.customResourceState();
    const removed = store.ofStack(stack.stackName).filter((r) => {
      const now = stack.template.Resources[r.logicalId];
      return now === undefined || now.Type !== r.resourceType;
    });
    for (const record of [...replaced, ...[...removed].reverse()]) {
      try {
        await this.deleteCustomResource(stack, record);
      } catch (e) {
        this.log(
          `custom resource ${stack.stackName}/${record.logicalId}: Delete failed: ${(e as Error).message}`,
        );
      }
    }
    for (const record of removed) store.delete(stack.stackName, record.logicalId);
  }

  private async deleteCustomResource(stack: StackArtifact, record: CustomResourceRecord): Promise<void> {
    const fnInfo = this.serviceFunction(record.serviceToken);
    if (!fnInfo) {
      this.log(
        `custom resource ${stack.stackName}/${record.logicalId} (${record.resourceType}): ` +
          `no Delete sent for ${record.physicalResourceId}: its function ${record.serviceToken} is not in the assembly`,
      );
      return;
    }
    await this.sendCustomResource(fnInfo, stack, {
      RequestType: 'Delete',
      ServiceToken: record.serviceToken,
      ResourceType: record.resourceType,
      LogicalResourceId: record.logicalId,
      PhysicalResourceId: record.physicalResourceId,
      ResourceProperties: record.properties,
    });
  }

  private functionFor(ref: unknown): LocalFunctionInfo | undefined {
    const value = String(ref);
    for (const info of this.functions.values()) {
      if (info.name === value || info.arn === value || value.endsWith(`:function:${info.name}`)) return info;
    }
    return undefined;
  }

  /** Sends an on-failure record to an SQS queue or SNS topic destination. */
  private destination(arn: string | undefined): ((record: unknown) => Promise<void>) | undefined {
    if (!arn) return undefined;
    const target = this.resources.findByArnOrRef(arn);
    if (target?.type === 'AWS::SQS::Queue') {
      return async (record) => {
        await this.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: target.ref, MessageBody: JSON.stringify(record) }),
        );
      };
    }
    if (target?.type === 'AWS::SNS::Topic') {
      return async (record) => {
        await this.clients.sns.send(
          new PublishCommand({ TopicArn: target.ref, Message: JSON.stringify(record) }),
        );
      };
    }
    return undefined;
  }

  private asyncConfig(stack: StackArtifact, fnInfo: LocalFunctionInfo) {
    const ctx = this.context(stack);
    for (const [, cfg] of resourcesOfType(stack, 'AWS::Lambda::EventInvokeConfig')) {
      const p = resolve(cfg.Properties ?? {}, ctx) as {
        FunctionName?: string;
        MaximumRetryAttempts?: number;
        DestinationConfig?: { OnFailure?: { Destination?: string } };
      };
      if (this.functionFor(p.FunctionName) !== fnInfo) continue;
      return {
        functionName: fnInfo.name,
        maximumRetryAttempts: p.MaximumRetryAttempts,
        onFailure: this.destination(p.DestinationConfig?.OnFailure?.Destination),
      };
    }
    return { functionName: fnInfo.name };
  }

  private async startEventSources(stack: StackArtifact): Promise<void> {
    const ctx = this.context(stack);
    const { region, accountId } = this.options.target;
    const log = this.log;
    for (const [logicalId, resource] of resourcesOfType(stack, 'AWS::Lambda::EventSourceMapping')) {
      const finding = { stackName: stack.stackName, logicalId, type: resource.Type };
      let p: Record<string, unknown>;
      try {
        p = resolve(resource.Properties ?? {}, ctx, logicalId) as Record<string, unknown>;
      } catch (e) {
        if (!(e instanceof UnresolvableError)) throw e;
        this.unsupported.push({ ...finding, message: e.message });
        continue;
      }
      const fnInfo = this.functionFor(p.FunctionName);
      if (!fnInfo) {
        this.unsupported.push({
          ...finding,
          message: `function ${String(p.FunctionName)} is not run locally`,
        });
        continue;
      }
      if (p.Enabled === false) continue;
      const sourceArn = String(p.EventSourceArn ?? '');
      const source = this.resources.findByArnOrRef(sourceArn);
      const streamTable = this.resources
        .ofType('AWS::DynamoDB::Table')
        .find((t) => t.attrs.StreamArn === sourceArn);
      const reportBatchItemFailures = (p.FunctionResponseTypes as string[] | undefined)?.includes(
        'ReportBatchItemFailures',
      );
      const filters = parseFilterCriteria(p.FilterCriteria);
      for (const key of ['TumblingWindowInSeconds', 'ParallelizationFactor'] as const) {
        if (p[key] !== undefined && p[key] !== 1) {
          this.unsupported.push({
            ...finding,
            message: `${key} is not emulated (mapping of ${fnInfo.name})`,
          });
        }
      }
      if (source?.type === 'AWS::SQS::Queue') {
        this.eventSources.push(
          new SqsEventSource(
            {
              functionName: fnInfo.name,
              queueUrl: source.ref,
              queueArn: sourceArn,
              region,
              batchSize: p.BatchSize === undefined ? 10 : Number(p.BatchSize),
              maxBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
              reportBatchItemFailures,
              maxConcurrency: Number(
                (p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 2,
              ),
              filters,
            },
            fnInfo.fn,
            this.clients.sqs,
            log,
          ),
        );
      } else if (streamTable) {
        const streams = new DynamoDBStreamsClient({
          endpoint: this.options.target.endpoint,
          region,
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
          },
        });
        const onFailure = (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)
          ?.OnFailure?.Destination;
        this.eventSources.push(
          new DynamoDbStreamEventSource(
            {
              functionName: fnInfo.name,
              streamArn: sourceArn,
              region,
              startingPosition: p.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
              batchSize: p.BatchSize === undefined ? 100 : Number(p.BatchSize),
              maxBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
              bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
              maximumRetryAttempts:
                p.MaximumRetryAttempts === undefined ? -1 : Number(p.MaximumRetryAttempts),
              maximumRecordAgeInSeconds:
                p.MaximumRecordAgeInSeconds === undefined ? -1 : Number(p.MaximumRecordAgeInSeconds),
              reportBatchItemFailures,
              filters,
              onFailure: this.destination(onFailure),
              checkpoints: this.checkpointStore(),
            },
            fnInfo.fn,
            streams,
            log,
          ),
        );
      } else if (source?.attrs.LocalEngine === 'kafka' || p.SelfManagedEventSource) {
        const brokers = [...(this.options.engines?.kafkaBrokers ?? ['127.0.0.1:9092'])];
        const groupId =
          (p.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId?: string } | undefined)
            ?.ConsumerGroupId ??
          (p.SelfManagedKafkaEventSourceConfig as { ConsumerGroupId?: string } | undefined)
            ?.ConsumerGroupId ??
          `${stack.stackName}-${logicalId}`;
        this.eventSources.push(
          new KafkaEventSource(
            {
              functionName: fnInfo.name,
              eventSourceArn: sourceArn,
              brokers,
              topics: (p.Topics as string[] | undefined) ?? [],
              consumerGroupId: groupId,
              startingPosition: p.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
              batchSize: p.BatchSize === undefined ? 100 : Number(p.BatchSize),
              filters,
              eventSource: p.SelfManagedEventSource ? 'SelfManagedKafka' : 'aws:kafka',
            },
            fnInfo.fn,
            log,
          ),
        );
      } else if (source?.attrs.LocalEngine === 'rabbitmq') {
        const access = (p.SourceAccessConfigurations as { Type: string; URI: string }[] | undefined) ?? [];
        const queues = (p.Queues as string[] | undefined) ?? [];
        // Lambda logs in with the BASIC_AUTH secret's {username, password}, as the mapping says.
        const url = new URL(String(source.attrs.LocalRabbitUrl));
        const basicAuth = access.find((a) => a.Type === 'BASIC_AUTH')?.URI;
        if (basicAuth) {
          const secret = await this.clients.secrets.send(new GetSecretValueCommand({ SecretId: basicAuth }));
          const { username, password } = JSON.parse(secret.SecretString ?? '{}') as {
            username?: string;
            password?: string;
          };
          if (username && password) {
            url.username = encodeURIComponent(username);
            url.password = encodeURIComponent(password);
          }
        }
        for (const queue of queues) {
          this.eventSources.push(
            new RabbitMqEventSource(
              {
                functionName: fnInfo.name,
                eventSourceArn: sourceArn,
                url: url.toString(),
                queue,
                virtualHost: access.find((a) => a.Type === 'VIRTUAL_HOST')?.URI ?? '/',
                batchSize: p.BatchSize === undefined ? 100 : Number(p.BatchSize),
                maxBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0.5),
              },
              fnInfo.fn,
              log,
            ),
          );
        }
      } else {
        this.unsupported.push({
          ...finding,
          message: `event source ${sourceArn || '(unknown)'} of ${fnInfo.name} is not a resource the runtime knows`,
        });
      }
    }

    for (const [logicalId, sub] of resourcesOfType(stack, 'AWS::SNS::Subscription')) {
      const p = resolve(sub.Properties ?? {}, ctx) as Record<string, unknown>;
      if (p.Protocol !== 'lambda') continue;
      const fnInfo = this.functionFor(p.Endpoint);
      if (!fnInfo) continue;
      const s = new SnsToLambdaEventSource(
        {
          ...this.asyncConfig(stack, fnInfo),
          topicArn: String(p.TopicArn),
          region,
          filterPolicy: p.FilterPolicy === undefined ? undefined : JSON.stringify(p.FilterPolicy),
          filterPolicyScope: p.FilterPolicyScope === undefined ? undefined : String(p.FilterPolicyScope),
          bridgeQueueName: `local-sns-${createHash('sha256').update(`${stack.stackName}/${logicalId}`).digest('hex').slice(0, 16)}`,
        },
        fnInfo.fn,
        this.clients,
        log,
      );
      await s.prepare();
      this.eventSources.push(s);
    }

    for (const [logicalId, rule] of resourcesOfType(stack, 'AWS::Events::Rule')) {
      const p = resolve(rule.Properties ?? {}, ctx) as {
        ScheduleExpression?: string;
        State?: string;
        Targets?: { Arn: string; Input?: string }[];
      };
      if (!p.ScheduleExpression) {
        this.unsupported.push({
          stackName: stack.stackName,
          logicalId,
          type: rule.Type,
          message: 'event pattern rules are not emulated (schedules are)',
        });
        continue;
      }
      if (p.State === 'DISABLED') continue;
      for (const t of p.Targets ?? []) {
        const fnInfo = this.functionFor(t.Arn);
        if (!fnInfo) continue;
        this.eventSources.push(
          new ScheduleEventSource(
            {
              ...this.asyncConfig(stack, fnInfo),
              ruleArn: `arn:aws:events:${region}:${accountId}:rule/${logicalId}`,
              expression: p.ScheduleExpression,
              region,
              accountId,
              input: t.Input ? JSON.parse(t.Input) : undefined,
            },
            fnInfo.fn,
            log,
          ),
        );
      }
    }
  }

  /** Invokes a function directly (like `aws lambda invoke`). */
  invoker(id: string): Invoker {
    return this.fn(id);
  }

  async stop(): Promise<void> {
    await this.responses?.close();
    await this.controlPlane.close();
    await Promise.allSettled(this.eventSources.map((s) => s.stop()));
    await this.alarms?.stop();
    this.checkpoints?.flush();
    await this.api?.close();
    await Promise.allSettled([...this.functions.values()].map((f) => f.fn.stop()));
  }
}
