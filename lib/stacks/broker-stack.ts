import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PLATFORM_BROKER_DEFINITIONS } from '../../lambdas/broker/domain/order-routing.js';
import type { StageConfig } from '../config/stage-config.js';
import { RabbitMqBroker } from '../constructs/rabbitmq-broker.js';
import { SUBNET_GROUPS } from '../network/platform-network.js';

export interface BrokerStackProps extends StackProps {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
}

/** Amazon MQ for RabbitMQ: a stateful broker, deployed apart from the compute that uses it. */
export class BrokerStack extends Stack {
  readonly rabbit: RabbitMqBroker;

  constructor(scope: Construct, id: string, props: BrokerStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    this.rabbit = new RabbitMqBroker(this, 'Rabbit', {
      vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.data },
      functionSubnets: { subnetGroupName: SUBNET_GROUPS.app },
      deploymentMode: config.broker.deploymentMode,
      instanceType: config.broker.instanceType,
      definitions: PLATFORM_BROKER_DEFINITIONS,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    new CfnOutput(this, 'RabbitMqAmqpEndpoint', { value: this.rabbit.amqpEndpoint });
    new CfnOutput(this, 'RabbitMqManagementUrl', { value: this.rabbit.managementUrl });
    new CfnOutput(this, 'RabbitMqAppSecretArn', { value: this.rabbit.appSecret.secretArn });
  }
}
