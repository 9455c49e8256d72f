import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { StageConfig } from './config/stage-config.js';
import { AnalyticsStack } from './stacks/analytics-stack.js';
import { BrokerStack } from './stacks/broker-stack.js';
import { DataStack } from './stacks/data-stack.js';
import { FulfilmentStack } from './stacks/fulfilment-stack.js';
import { NetworkStack } from './stacks/network-stack.js';
import { ObservabilityStack } from './stacks/observability-stack.js';
import { ServicesStack } from './stacks/services-stack.js';

export interface Platform {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly services: ServicesStack;
  readonly fulfilment: FulfilmentStack;
  readonly analytics: AnalyticsStack;
  readonly broker: BrokerStack;
  readonly observability: ObservabilityStack;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Name of a stage's stack, e.g. `Platform-Dev-Network` (also what tools look up in outputs). */
export function stackName(stage: string, name: string): string {
  return `Platform-${pascal(stage)}-${name}`;
}

/** Stack id of a stage's stack, e.g. `Platform-Dev-Network`. */
export function stackId(config: StageConfig, name: string): string {
  return stackName(config.stage, name);
}

/**
 * Builds every stack of one stage. Stacks are split by lifecycle: the network lives longest,
 * stateful stores next, stateless compute and APIs change most often.
 */
export function buildPlatform(app: App, config: StageConfig): Platform {
  const env = { account: config.account, region: config.region };
  const network = new NetworkStack(app, stackId(config, 'Network'), {
    env,
    config,
    description: `Messaging platform (${config.stage}): VPC, endpoints, flow logs`,
  });
  const data = new DataStack(app, stackId(config, 'Data'), {
    env,
    config,
    description: `Messaging platform (${config.stage}): event store, read models, identities`,
  });

  const analytics = new AnalyticsStack(app, stackId(config, 'Analytics'), {
    env,
    config,
    vpc: network.vpc,
    description: `Messaging platform (${config.stage}): Kafka (MSK), Redis (ElastiCache), windowed analytics`,
  });

  const broker = new BrokerStack(app, stackId(config, 'Broker'), {
    env,
    config,
    vpc: network.vpc,
    description: `Messaging platform (${config.stage}): Amazon MQ for RabbitMQ and its definitions`,
  });

  const fulfilment = new FulfilmentStack(app, stackId(config, 'Fulfilment'), {
    env,
    config,
    data,
    analytics,
    broker,
    description: `Messaging platform (${config.stage}): order-events fan-out and fulfilment services`,
  });

  const services = new ServicesStack(app, stackId(config, 'Services'), {
    env,
    config,
    data,
    fulfilment,
    analytics,
    description: `Messaging platform (${config.stage}): order, customer and analytics APIs, projections`,
  });

  const observability = new ObservabilityStack(app, stackId(config, 'Observability'), {
    env,
    config,
    data,
    analytics,
    broker,
    fulfilment,
    services,
    description: `Messaging platform (${config.stage}): alarms, alerting and the dashboard`,
  });

  Tags.of(app).add('platform', 'messaging');
  Tags.of(app).add('stage', config.stage);
  for (const [key, value] of Object.entries(config.tags)) Tags.of(app).add(key, value);
  return { network, data, services, fulfilment, analytics, broker, observability };
}

/** The security gates every synth runs: cdk-nag's AwsSolutions and Serverless packs. */
export function addSecurityChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
