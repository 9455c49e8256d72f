import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { REDIS_APP_USER, RedisCache, type RedisCacheProps } from '../../../lib/constructs/redis-cache.js';
import {
  acknowledgedIds,
  actionsOf,
  getAttId,
  NOOP_HANDLER,
  nagFindings,
  newStack,
  only,
  refId,
  resourcesOf,
  type Statement,
  tieredVpc,
} from '../helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Resources = Record<string, Resource>;

const MODES = ['serverless', 'replicationGroup'] as const;

/** Every value under a key whose name says it is a password or token, anywhere in a template. */
function secretValues(node: unknown, found: { key: string; value: unknown }[] = []) {
  if (Array.isArray(node)) {
    for (const item of node) secretValues(item, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (/^(.*password|passwords|authtoken|secretstring)$/i.test(key)) found.push({ key, value });
      secretValues(value, found);
    }
  }
  return found;
}

/**
 * A stack with a VPC of public, private (with NAT) and isolated subnets in two AZs, with flow logs
 * (so the stack's cdk-nag findings are the cache's), a cache, and a client function in the VPC.
 */
function fixture(props: Partial<RedisCacheProps> = {}, grant = true) {
  const stack = newStack();
  const vpc = tieredVpc(stack);
  const cache = new RedisCache(stack, 'Redis', { vpc, ...props });
  const client = new PlatformFunction(stack, 'Client', {
    entry: NOOP_HANDLER,
    serviceName: 's',
    vpc,
    vpcSubnets: { subnetGroupName: 'app' },
  });
  if (grant) cache.grantConnect(client.function);
  return { stack, vpc, cache, client, ...synth(stack, vpc, cache, client) };
}

function synth(stack: Stack, vpc: ec2.IVpc, cache: RedisCache, client: PlatformFunction) {
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const idOf = (construct: IConstruct | undefined): string => stack.getLogicalId(construct as CfnElement);
  const ofType = (type: string): [string, Resource][] =>
    Object.entries(resources).filter(([, r]) => r.Type === type);
  const ids = {
    cache: idOf(cache.node.findChild('Cache')),
    key: idOf(cache.encryptionKey.node.defaultChild),
    secret: idOf(cache.authSecret.node.defaultChild),
    sg: idOf(cache.securityGroup.node.defaultChild),
    client: idOf(client.function.node.defaultChild),
    clientSg: idOf(client.function.connections.securityGroups[0]?.node.defaultChild),
    clientRole: idOf(client.role.node.defaultChild),
  };
  const subnetRefs = (selection: ec2.SubnetSelection) =>
    vpc.selectSubnets(selection).subnets.map((s) => ({ Ref: idOf(s.node.defaultChild as CfnElement) }));
  const statementsOfClient = (): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => refId(r) === ids.clientRole))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const ingressOfCache = (): Record<string, unknown>[] => [
    ...((resources[ids.sg]?.Properties.SecurityGroupIngress ?? []) as Record<string, unknown>[]),
    ...ofType('AWS::EC2::SecurityGroupIngress')
      .filter(([, r]) => getAttId(r.Properties.GroupId) === ids.sg)
      .map(([, r]) => r.Properties),
  ];
  /** `{{resolve:secretsmanager:<the secret>:SecretString:password::}}` as the template writes it. */
  const passwordReference = {
    'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: ids.secret }, ':SecretString:password::}}']],
  };
  return {
    template,
    resources,
    ofType,
    ids,
    subnetRefs,
    statementsOfClient,
    ingressOfCache,
    passwordReference,
  };
}

describe('RedisCache', () => {
  describe('serverless', () => {
    it('is an ElastiCache Serverless cache with its own key, group, subnets and users', () => {
      // GIVEN / WHEN
      const { template, resources, ids, subnetRefs, cache } = fixture({
        mode: 'serverless',
        vpcSubnets: { subnetGroupName: 'data' },
      });
      // THEN
      template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
      template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
      expect(cache.mode).toBe('serverless');
      const [groupLogicalId, group] = only(
        Object.entries(template.findResources('AWS::ElastiCache::UserGroup')),
      );
      expect(resources[ids.cache]).toMatchObject({
        Type: 'AWS::ElastiCache::ServerlessCache',
        Properties: {
          Engine: 'redis',
          KmsKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
          SecurityGroupIds: [{ 'Fn::GetAtt': [ids.sg, 'GroupId'] }],
          SubnetIds: subnetRefs({ subnetGroupName: 'data' }),
          UserGroupId: group.Properties.UserGroupId,
        },
        DependsOn: [groupLogicalId],
      });
      expect(resources[ids.key]?.Properties.EnableKeyRotation).toBe(true);
    });

    it('caps its data storage (10 GB unless told), and measures memory against that cap', () => {
      const { resources, ids, cache } = fixture({ mode: 'serverless', maxDataStorageGb: 3 });
      expect(resources[ids.cache]?.Properties.CacheUsageLimits).toEqual({
        DataStorage: { Maximum: 3, Unit: 'GB' },
      });
      const memory = cache.metricMemoryPercent() as cloudwatch.MathExpression;
      expect(memory.expression).toBe(`100 * bytes / ${3e9}`);
      expect((memory.usingMetrics.bytes as cloudwatch.Metric).metricName).toBe('BytesUsedForCache');
      const evictions = cache.metricEvictions() as cloudwatch.Metric;
      expect(evictions.dimensions).toEqual({
        clusterId: resources[ids.cache]?.Properties.ServerlessCacheName,
      });
      const defaults = fixture({ mode: 'serverless' });
      expect(defaults.resources[defaults.ids.cache]?.Properties.CacheUsageLimits).toEqual({
        DataStorage: { Maximum: 10, Unit: 'GB' },
      });
    });

    it("defaults to the VPC's isolated subnets", () => {
      const { resources, ids, subnetRefs } = fixture({ mode: 'serverless' });
      const subnets = resources[ids.cache]?.Properties.SubnetIds;
      expect(subnets).toEqual(subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }));
      expect(subnets).not.toEqual(subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }));
    });

    it('disables the default user and lets the application user in with the generated password only', () => {
      // GIVEN
      const { template, ofType, passwordReference } = fixture({ mode: 'serverless' });
      // THEN the group has exactly a `default` user and the application user
      const users = ofType('AWS::ElastiCache::User');
      expect(users).toHaveLength(2);
      const byName = new Map(users.map(([id, u]) => [u.Properties.UserName as string, { id, ...u }]));
      const defaultUser = byName.get('default');
      const appUser = byName.get(REDIS_APP_USER);
      const [, group] = only(Object.entries(template.findResources('AWS::ElastiCache::UserGroup')));
      expect([...group.Properties.UserIds].sort()).toEqual(
        [defaultUser?.Properties.UserId, appUser?.Properties.UserId].sort(),
      );
      expect(new Set(group.DependsOn)).toEqual(new Set([defaultUser?.id, appUser?.id]));
      // AND the default user is off and can run no command
      expect(defaultUser?.Properties.AccessString).toMatch(/^off\b/);
      expect(defaultUser?.Properties.AccessString).toContain('-@all');
      // AND the application user is on, with a password from Secrets Manager, and no admin commands
      expect(appUser?.Properties.AccessString).toMatch(/^on\b/);
      expect(appUser?.Properties.AccessString).toContain('-@admin');
      expect(appUser?.Properties.AccessString).toContain('-@dangerous');
      expect(appUser?.Properties.AuthenticationMode).toEqual({
        Type: 'password',
        Passwords: [passwordReference],
      });
    });
  });

  describe('replication group', () => {
    it('encrypts at rest with its key and in transit, and authenticates with the generated token', () => {
      // GIVEN / WHEN
      const { template, resources, ids, passwordReference, cache } = fixture({ mode: 'replicationGroup' });
      // THEN
      template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
      template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
      expect(cache.mode).toBe('replicationGroup');
      expect(resources[ids.cache]?.Properties).toMatchObject({
        Engine: 'redis',
        TransitEncryptionEnabled: true,
        AtRestEncryptionEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
        AuthToken: passwordReference,
        SecurityGroupIds: [{ 'Fn::GetAtt': [ids.sg, 'GroupId'] }],
      });
      expect(resources[ids.key]?.Properties.EnableKeyRotation).toBe(true);
    });

    it('listens on 6380 (not the default 6379) unless told another port', () => {
      const defaults = fixture({ mode: 'replicationGroup' });
      expect(defaults.resources[defaults.ids.cache]?.Properties.Port).toBe(6380);
      const custom = fixture({ mode: 'replicationGroup', port: 7000 });
      expect(custom.resources[custom.ids.cache]?.Properties.Port).toBe(7000);
    });

    it('fails over automatically across AZs when it has replicas', () => {
      const { resources, ids } = fixture({ mode: 'replicationGroup', replicas: 2 });
      expect(resources[ids.cache]?.Properties).toMatchObject({
        ReplicasPerNodeGroup: 2,
        MultiAZEnabled: true,
        AutomaticFailoverEnabled: true,
      });
    });

    it('turns Multi-AZ and failover off for a single node (no replica to fail over to)', () => {
      const { resources, ids } = fixture({ mode: 'replicationGroup', replicas: 0 });
      expect(resources[ids.cache]?.Properties).toMatchObject({
        ReplicasPerNodeGroup: 0,
        MultiAZEnabled: false,
        AutomaticFailoverEnabled: false,
      });
    });

    it('keeps daily snapshots for a week', () => {
      const { resources, ids } = fixture({ mode: 'replicationGroup' });
      expect(resources[ids.cache]?.Properties.SnapshotRetentionLimit).toBe(7);
    });

    it("places the nodes in a subnet group of the VPC's isolated subnets", () => {
      const { resources, ids, ofType, subnetRefs } = fixture({ mode: 'replicationGroup' });
      const subnetGroupId = refId(resources[ids.cache]?.Properties.CacheSubnetGroupName);
      const subnetGroups = ofType('AWS::ElastiCache::SubnetGroup');
      expect(subnetGroups.map(([id]) => id)).toEqual([subnetGroupId]);
      expect(subnetGroups[0]?.[1].Properties.SubnetIds).toEqual(
        subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }),
      );
    });
  });

  describe.each(MODES)('the password of a %s cache', (mode) => {
    const { template, resources, ids, passwordReference } = fixture({ mode });

    it('is generated by Secrets Manager (no punctuation, 16 to 128 characters) and encrypted with the cache key', () => {
      template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      const secret = resources[ids.secret]?.Properties ?? {};
      expect(secret.SecretString).toBeUndefined();
      expect(secret.KmsKeyId).toEqual({ 'Fn::GetAtt': [ids.key, 'Arn'] });
      const generate = secret.GenerateSecretString as Record<string, unknown>;
      expect(generate).toMatchObject({ ExcludePunctuation: true, GenerateStringKey: 'password' });
      expect(JSON.parse(generate.SecretStringTemplate as string)).toEqual({ username: REDIS_APP_USER });
      expect(generate.PasswordLength).toBeGreaterThanOrEqual(16);
      expect(generate.PasswordLength).toBeLessThanOrEqual(128);
    });

    it('never appears in the template: every password or token is a dynamic reference to the secret', () => {
      const found = secretValues(template.toJSON());
      // Passwords (serverless) or AuthToken (replication group)
      expect(found.map((f) => f.key)).toContain(mode === 'serverless' ? 'Passwords' : 'AuthToken');
      for (const { key, value } of found) {
        const values = Array.isArray(value) ? value : [value];
        for (const v of values) {
          expect(typeof v, key).not.toBe('string');
          expect(v, key).toEqual(passwordReference);
        }
      }
    });
  });

  describe.each(MODES)('grantConnect on a %s cache', (mode) => {
    // GIVEN a function granted access to the cache
    const { resources, ids, statementsOfClient, ingressOfCache, cache } = fixture({ mode });
    const port = mode === 'serverless' ? 6379 : 6380;
    const endpoint = mode === 'serverless' ? 'Endpoint' : 'PrimaryEndPoint';

    it('tells the function where the cache is and which secret holds the password', () => {
      const environment = resources[ids.client]?.Properties.Environment as
        | { Variables?: Record<string, unknown> }
        | undefined;
      const env = environment?.Variables;
      expect(env).toMatchObject({
        REDIS_HOST: { 'Fn::GetAtt': [ids.cache, `${endpoint}.Address`] },
        REDIS_PORT: { 'Fn::GetAtt': [ids.cache, `${endpoint}.Port`] },
        REDIS_AUTH_SECRET_ARN: { Ref: ids.secret },
      });
    });

    it('lets the function read that secret only, and decrypt it only through Secrets Manager', () => {
      const statements = statementsOfClient();
      const secrets = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      expect(secrets.flatMap(actionsOf)).toContain('secretsmanager:GetSecretValue');
      for (const s of secrets) {
        expect(resourcesOf(s)).toEqual([{ Ref: ids.secret }]);
        for (const a of actionsOf(s))
          expect(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']).toContain(a);
      }
      const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      expect(kms).toEqual([
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [ids.key, 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
        },
      ]);
    });

    it("opens the cache's port to the function's security group, and nothing else", () => {
      expect(cache.connections.defaultPort?.toString()).toBe(String(port));
      expect(ingressOfCache()).toEqual([
        {
          Description: 'Redis clients',
          GroupId: { 'Fn::GetAtt': [ids.sg, 'GroupId'] },
          SourceSecurityGroupId: { 'Fn::GetAtt': [ids.clientSg, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: port,
          ToPort: port,
        },
      ]);
    });
  });

  it('lets nothing reach the cache until a client is granted', () => {
    const { ingressOfCache, resources, ids } = fixture({ mode: 'serverless' }, false);
    expect(ingressOfCache()).toEqual([]);
    for (const rule of (resources[ids.sg]?.Properties.SecurityGroupEgress ?? []) as Record<
      string,
      unknown
    >[]) {
      expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    }
  });

  describe('cdk-nag', () => {
    it.each(MODES)(
      'finds nothing on a %s cache and its client, with only the secret rotation acknowledged',
      (mode) => {
        const { stack, cache } = fixture({ mode });
        expect(nagFindings(stack)).toEqual([]);
        expect(acknowledgedIds(cache)).toEqual({ [cache.authSecret.node.path]: ['AwsSolutions-SMG4'] });
      },
    );

    it('reports a single-node replication group as not Multi-AZ (the check can fail)', () => {
      const { stack } = fixture({ mode: 'replicationGroup', replicas: 0 });
      expect(nagFindings(stack)).toEqual([{ rule: 'AwsSolutions-AEC4', path: 'TestStack/Redis/Cache' }]);
    });
  });
});
