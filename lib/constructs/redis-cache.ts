import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeOpenEgress, dataSubnets } from './vpc-placement.js';

export interface RedisCacheProps {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's isolated subnets, else its private ones */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * ElastiCache Serverless (capacity follows load) or a replication group (fixed nodes, Multi-AZ
   * with replicas).
   * @default 'serverless'
   */
  readonly mode?: 'serverless' | 'replicationGroup';
  /** Replication group only. @default 'cache.t4g.small' */
  readonly nodeType?: string;
  /** Replication group only; 0 means a single node (no failover). @default 1 */
  readonly replicas?: number;
  /**
   * Serverless only: the data storage limit in GB (ElastiCache stops growing there, and evicts);
   * the memory metric is measured against it.
   * @default 10
   */
  readonly maxDataStorageGb?: number;
  /** Replication group only: a non-default port. @default 6380 */
  readonly port?: number;
  /** @default - a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** The user applications connect as (the password is in `authSecret`). */
export const REDIS_APP_USER = 'platform-app';

/**
 * A Redis cache in the VPC's data subnets that only TLS clients with a password reach: encrypted
 * at rest with a customer-managed key and in transit, with the password generated in Secrets
 * Manager (never in the template).
 *
 * - `serverless`: ElastiCache Serverless with role-based access control: a user group whose
 *   `default` user is disabled and whose application user authenticates with the secret.
 * - `replicationGroup`: Redis AUTH with the secret as token, Multi-AZ automatic failover when it
 *   has replicas, daily snapshots.
 */
export class RedisCache extends Construct {
  readonly mode: 'serverless' | 'replicationGroup';
  readonly endpointAddress: string;
  readonly endpointPort: string;
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  readonly encryptionKey: kms.IKey;
  /** JSON `{username, password}`. */
  readonly authSecret: secretsmanager.Secret;
  /** The CloudWatch dimensions of the cache (serverless) or of its primary node (replication group). */
  private readonly metricDimensions: Record<string, string>;
  private readonly maxDataStorageGb: number;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    this.mode = props.mode ?? 'serverless';
    this.maxDataStorageGb = props.maxDataStorageGb ?? 10;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const name = `${Stack.of(this).stackName}-${id}`
      .replace(/[^A-Za-z0-9-]/g, '-')
      .toLowerCase()
      .slice(0, 40);
    const subnets = dataSubnets(props.vpc, props.vpcSubnets);
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts ${this.node.path}`,
        removalPolicy,
      });
    this.authSecret = new secretsmanager.Secret(this, 'AuthSecret', {
      description: `Password of ${REDIS_APP_USER} on ${name}`,
      encryptionKey: this.encryptionKey,
      removalPolicy,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: REDIS_APP_USER }),
        generateStringKey: 'password',
        // Redis AUTH tokens: 16-128 printable characters, no @ " / or spaces.
        excludePunctuation: true,
        passwordLength: 64,
      },
    });
    Validations.of(this.authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An ElastiCache AUTH token or user password is rotated with ModifyReplicationGroup/ModifyUser (ROTATE strategy), which Secrets Manager rotation does not drive; rotation is an operator runbook step.',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${name}: TLS clients only`,
      allowAllOutbound: false,
    });
    // A retained cache keeps using its security group (and subnet group): retain them with it.
    this.securityGroup.applyRemovalPolicy(removalPolicy);
    const password = this.authSecret.secretValueFromJson('password').unsafeUnwrap();

    if (this.mode === 'serverless') {
      const defaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
        engine: 'redis',
        userId: `${name}-default`,
        userName: 'default',
        // Every user group needs a `default` user: this one can do nothing.
        accessString: 'off -@all',
        authenticationMode: { Type: 'no-password-required' },
      });
      const appUser = new elasticache.CfnUser(this, 'AppUser', {
        engine: 'redis',
        userId: `${name}-app`,
        userName: REDIS_APP_USER,
        accessString: 'on ~* &* +@all -@admin -@dangerous +info',
        authenticationMode: { Type: 'password', Passwords: [password] },
      });
      const group = new elasticache.CfnUserGroup(this, 'UserGroup', {
        engine: 'redis',
        userGroupId: `${name}-users`,
        userIds: [defaultUser.userId, appUser.userId],
      });
      group.node.addDependency(defaultUser);
      group.node.addDependency(appUser);
      const cache = new elasticache.CfnServerlessCache(this, 'Cache', {
        serverlessCacheName: name,
        engine: 'redis',
        majorEngineVersion: '7',
        kmsKeyId: this.encryptionKey.keyArn,
        securityGroupIds: [this.securityGroup.securityGroupId],
        subnetIds: subnets.subnetIds,
        userGroupId: group.userGroupId,
        snapshotRetentionLimit: 1,
        cacheUsageLimits: { dataStorage: { maximum: this.maxDataStorageGb, unit: 'GB' } },
      });
      cache.node.addDependency(group);
      cache.applyRemovalPolicy(removalPolicy);
      this.endpointAddress = cache.attrEndpointAddress;
      this.endpointPort = cache.attrEndpointPort;
      this.metricDimensions = { clusterId: name };
    } else {
      const replicas = props.replicas ?? 1;
      const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
        description: `Data subnets of ${name}`,
        subnetIds: subnets.subnetIds,
      });
      subnetGroup.applyRemovalPolicy(removalPolicy);
      const group = new elasticache.CfnReplicationGroup(this, 'Cache', {
        replicationGroupDescription: `Redis of ${Stack.of(this).stackName}`,
        engine: 'redis',
        engineVersion: '7.1',
        cacheNodeType: props.nodeType ?? 'cache.t4g.small',
        numNodeGroups: 1,
        replicasPerNodeGroup: replicas,
        automaticFailoverEnabled: replicas > 0,
        multiAzEnabled: replicas > 0,
        port: props.port ?? 6380,
        cacheSubnetGroupName: subnetGroup.ref,
        securityGroupIds: [this.securityGroup.securityGroupId],
        atRestEncryptionEnabled: true,
        kmsKeyId: this.encryptionKey.keyArn,
        transitEncryptionEnabled: true,
        authToken: password,
        snapshotRetentionLimit: 7,
      });
      group.applyRemovalPolicy(removalPolicy);
      this.endpointAddress = group.attrPrimaryEndPointAddress;
      this.endpointPort = group.attrPrimaryEndPointPort;
      // Node metrics: the primary is `<replication group id>-001` until a failover.
      this.metricDimensions = { CacheClusterId: `${group.ref}-001` };
    }
    const port = this.mode === 'serverless' ? 6379 : (props.port ?? 6380);
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(port),
    });
  }

  /** Lets a function connect: network path, the secret, and the environment it reads. */
  /**
   * Memory in use, percent: `DatabaseMemoryUsagePercentage` of the primary node, or for a
   * serverless cache `BytesUsedForCache` against its data storage limit.
   */
  metricMemoryPercent(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: this.metricDimensions,
        statistic: 'Maximum',
        ...props,
      });
    if (this.mode === 'replicationGroup') return metric('DatabaseMemoryUsagePercentage');
    return new cloudwatch.MathExpression({
      expression: `100 * bytes / ${this.maxDataStorageGb * 1e9}`,
      usingMetrics: { bytes: metric('BytesUsedForCache') },
      label: 'Redis memory used (%)',
      ...(props.period ? { period: props.period } : {}),
    });
  }

  /** Keys evicted because memory was full. */
  metricEvictions(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName: 'Evictions',
      dimensionsMap: this.metricDimensions,
      statistic: 'Sum',
      ...props,
    });
  }

  grantConnect(fn: lambda.Function): void {
    // From the client's side: the rule lives in the client's stack (no dependency back on it).
    fn.connections.allowToDefaultPort(this.connections, 'Redis clients');
    acknowledgeOpenEgress(fn);
    // Identity policies only: a grant through the key's resource policy would make this stack
    // depend on the client's (its role ARN in the key policy).
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [this.authSecret.secretArn],
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
    fn.addEnvironment('REDIS_HOST', this.endpointAddress);
    fn.addEnvironment('REDIS_PORT', this.endpointPort);
    fn.addEnvironment('REDIS_AUTH_SECRET_ARN', this.authSecret.secretArn);
  }
}
