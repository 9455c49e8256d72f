import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { InterfaceEndpointName } from '../config/stage-config.js';

const INTERFACE_SERVICES: Record<InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService> = {
  sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  events: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  email: ec2.InterfaceVpcEndpointAwsService.SES,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  kafka: ec2.InterfaceVpcEndpointAwsService.KAFKA,
  lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
};

/** Subnet group names, for `vpc.selectSubnets({ subnetGroupName })`. */
export const SUBNET_GROUPS = {
  /** NAT gateways only. */
  public: 'public',
  /** Lambda functions: egress through NAT (third-party HTTPS) or none when natGateways is 0. */
  app: 'app',
  /** Brokers and caches (MSK, ElastiCache, Amazon MQ): no route to the internet at all. */
  data: 'data',
} as const;

export interface PlatformNetworkProps {
  /** @default '10.20.0.0/16' */
  readonly cidr?: string;
  /** @default 2 */
  readonly maxAzs?: number;
  /**
   * Explicit zones; needed for more than two AZs in an environment-agnostic stack, where CDK
   * cannot look them up.
   * @default - chosen by CDK from maxAzs
   */
  readonly availabilityZones?: string[];
  /** 0 makes the app subnets isolated (AWS services through endpoints only). @default 1 */
  readonly natGateways?: number;
  /** Interface endpoints (gateway endpoints for S3 and DynamoDB are always added). @default ['sqs','sns','secretsmanager','kms'] */
  readonly interfaceEndpoints?: readonly InterfaceEndpointName[];
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly flowLogRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** Use this VPC instead of creating one (endpoints and flow logs are not added to it). */
  readonly existingVpc?: ec2.IVpc;
}

/**
 * The platform's VPC: public subnets for NAT, private app subnets for functions, isolated data
 * subnets for brokers and caches, VPC endpoints so that AWS API calls stay on the AWS network, and
 * flow logs of all traffic.
 */
export class PlatformNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly flowLogGroup?: logs.LogGroup;
  readonly endpointSecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformNetworkProps = {}) {
    super(scope, id);
    if (props.existingVpc) {
      this.vpc = props.existingVpc;
      return;
    }
    const natGateways = props.natGateways ?? 1;
    const cidr = props.cidr ?? '10.20.0.0/16';
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      ...(props.availabilityZones
        ? { availabilityZones: props.availabilityZones }
        : { maxAzs: props.maxAzs ?? 2 }),
      natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        {
          name: SUBNET_GROUPS.public,
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: 24,
          mapPublicIpOnLaunch: false,
        },
        {
          name: SUBNET_GROUPS.app,
          subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
        { name: SUBNET_GROUPS.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.vpc = vpc;
    // aws-cdk-lib's provider for restrictDefaultSecurityGroup declares a DependsOn that its GetAtt
    // already implies; cfn-lint flags that (W3005). Silence it on that one generated resource.
    const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler');
    if (handler instanceof CfnResource) {
      handler.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.TWO_WEEKS,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const endpoints = props.interfaceEndpoints ?? ['sqs', 'sns', 'secretsmanager', 'kms'];
    if (endpoints.length > 0) {
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc,
        description: 'HTTPS from inside the VPC to the interface endpoints',
        allowAllOutbound: false,
      });
      this.endpointSecurityGroup.addIngressRule(
        // The literal CIDR (not the VpcCidrBlock token) keeps the rule reviewable at synth.
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(443),
        'HTTPS from the VPC',
      );
      for (const name of new Set(endpoints)) {
        vpc.addInterfaceEndpoint(`${name}Endpoint`, {
          service: INTERFACE_SERVICES[name],
          subnets: { subnetGroupName: SUBNET_GROUPS.app },
          securityGroups: [this.endpointSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        });
      }
    }
  }
}
