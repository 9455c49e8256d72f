import { type CfnElement, Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { BrokerDefinitions } from '../../../lambdas/broker/domain/definitions.js';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import {
  AMQPS_PORT,
  MANAGEMENT_PORT,
  RabbitMqBroker,
  type RabbitMqBrokerProps,
} from '../../../lib/constructs/rabbitmq-broker.js';
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

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type Resources = Record<string, Resource>;

/** Definitions of the construct's own tests: a topic exchange, a work queue with a DLX, its dead letters. */
const DEFINITIONS: BrokerDefinitions = {
  vhost: 'orders',
  exchanges: [
    { name: 'events', type: 'topic' },
    { name: 'events.dlx', type: 'fanout' },
  ],
  queues: [
    { name: 'work', deadLetterExchange: 'events.dlx', deliveryLimit: 3 },
    { name: 'work.dead', type: 'classic', messageTtlMs: 60_000 },
  ],
  bindings: [
    { source: 'events', destination: 'work', routingKey: 'order.*.created' },
    { source: 'events.dlx', destination: 'work.dead' },
  ],
};

interface Leak {
  readonly path: string;
  readonly value: string;
  readonly why: string;
}

/** Keys whose value is a credential when it is a literal (not an intrinsic such as a dynamic reference). */
const CREDENTIAL_KEY = /(pass(word|wd|phrase)?|pwd|token|secret(string|value)?|credentials?|apikey)$/i;
/** `scheme://user:password@host`. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
/** `"password":"…"`, `password=…`, `token: …` inside a string (JSON, env, connection strings). */
const INLINE_CREDENTIAL = /["']?(pass(word|wd)?|pwd|token|secret)["']?\s*[:=]\s*["']?[^\s"',;}{]{4,}/i;
/** A CloudFormation dynamic reference: resolved by CloudFormation, never written in the template. */
const DYNAMIC_REFERENCE = /^\{\{resolve:(secretsmanager|ssm-secure):/;

/**
 * Everything in a template that looks like a credential: a literal under a password-like key, a
 * URL with a password, `password=…` inside a string, or a random-looking token (mixed case and
 * digits, 16+ characters, no separators but `-`, `_` or `+`) that is not one of the template's logical ids.
 */
function credentialLeaks(template: Record<string, unknown>): Leak[] {
  const logicalIds = new Set(
    ['Resources', 'Outputs', 'Parameters', 'Conditions'].flatMap((s) =>
      Object.keys((template[s] ?? {}) as object),
    ),
  );
  const leaks: Leak[] = [];
  const visit = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      if (DYNAMIC_REFERENCE.test(node) || node.startsWith(':SecretString:')) return;
      if (URL_WITH_PASSWORD.test(node)) leaks.push({ path, value: node, why: 'URL with a password' });
      else if (INLINE_CREDENTIAL.test(node)) leaks.push({ path, value: node, why: 'inline credential' });
      else if (
        /^[A-Za-z0-9+_-]{16,}={0,2}$/.test(node) &&
        /[a-z]/.test(node) &&
        /[A-Z]/.test(node) &&
        /\d/.test(node) &&
        ![...logicalIds].some((id) => node === id || node.startsWith(id))
      ) {
        leaks.push({ path, value: node, why: 'random-looking token' });
      }
      return;
    }
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) visit(item, `${path}.${i}`);
      return;
    }
    if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (CREDENTIAL_KEY.test(key) && (typeof value === 'string' || typeof value === 'number')) {
          if (!DYNAMIC_REFERENCE.test(String(value))) {
            leaks.push({ path: `${path}.${key}`, value: String(value), why: `literal ${key}` });
            continue;
          }
        }
        visit(value, `${path}.${key}`);
      }
    }
  };
  visit(template, '$');
  return leaks;
}

/** Rules that let the whole internet in or everything out. */
const openRules = (rules: Record<string, unknown>[]): Record<string, unknown>[] =>
  rules.filter(
    (r) => r.CidrIp === '0.0.0.0/0' || r.CidrIpv6 === '::/0' || r.IpProtocol === '-1' || r.IpProtocol === -1,
  );

/**
 * A stack with a VPC of public, private (with NAT) and isolated subnets in three AZs, with flow
 * logs (so the stack's cdk-nag findings are the broker's), and a broker in it.
 */
function fixture(props: Partial<RabbitMqBrokerProps> = {}) {
  const stack = newStack();
  const vpc = tieredVpc(stack, 3);
  const broker = new RabbitMqBroker(stack, 'Rabbit', { vpc, definitions: DEFINITIONS, ...props });
  return { stack, vpc, broker };
}

/** A function in the app subnets, as the broker's clients are. */
function clientIn({ stack, vpc }: { stack: Stack; vpc: ec2.IVpc }, id: string): PlatformFunction {
  return new PlatformFunction(stack, id, {
    entry: NOOP_HANDLER,
    serviceName: 's',
    vpc,
    vpcSubnets: { subnetGroupName: 'app' },
  });
}

function synth({ stack, vpc, broker }: { stack: Stack; vpc: ec2.IVpc; broker: RabbitMqBroker }) {
  const template = Template.fromStack(stack);
  const json = template.toJSON() as Record<string, unknown>;
  const resources = json.Resources as Resources;
  const idOf = (construct: IConstruct): string => stack.getLogicalId(construct as CfnElement);
  const brokerId = idOf(broker.broker);
  const sgId = idOf(broker.securityGroup.node.defaultChild as CfnElement);
  const adminSecretId = idOf(broker.adminSecret.node.defaultChild as CfnElement);
  const appSecretId = idOf(broker.appSecret.node.defaultChild as CfnElement);
  const definitionsId = idOf(broker.definitionsResource.node.defaultChild as CfnElement);
  const subnetRefs = (selection: ec2.SubnetSelection) =>
    vpc.selectSubnets(selection).subnets.map((s) => ({ Ref: idOf(s.node.defaultChild as CfnElement) }));
  const ofType = (type: string): [string, Resource][] =>
    Object.entries(resources).filter(([, r]) => r.Type === type);
  const brokerProps = resources[brokerId]?.Properties ?? {};
  /** Ingress and egress rules of the broker's security group, inline or standalone. */
  const rulesOfSg = (direction: 'Ingress' | 'Egress'): Record<string, unknown>[] => [
    ...((resources[sgId]?.Properties[`SecurityGroup${direction}`] ?? []) as Record<string, unknown>[]),
    ...ofType(`AWS::EC2::SecurityGroup${direction}`)
      .filter(([, r]) => getAttId(r.Properties.GroupId) === sgId)
      .map(([, r]) => r.Properties),
  ];
  const sgOf = (fn: PlatformFunction) =>
    idOf(fn.function.connections.securityGroups[0]?.node.defaultChild as CfnElement);
  /** Every statement of a function's role, from the policies attached to it. */
  const statementsOf = (fn: PlatformFunction): Statement[] => {
    const roleId = idOf(fn.role.node.defaultChild as CfnElement);
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => refId(r) === roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  };
  /** The resources a function may do `action` on (Allow statements). */
  const allowedOn = (fn: PlatformFunction, action: string): unknown[] =>
    statementsOf(fn)
      .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action))
      .flatMap(resourcesOf);
  const environmentOf = (fn: PlatformFunction): Record<string, unknown> => {
    const props = resources[idOf(fn.function.node.defaultChild as CfnElement)]?.Properties;
    return (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  };
  /** A value, or the property of the definitions resource that one of its attributes echoes. */
  const throughDefinitions = (value: unknown): unknown => {
    const att = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    return att && att[0] === definitionsId ? resources[definitionsId]?.Properties[att[1]] : value;
  };
  return {
    template,
    json,
    throughDefinitions,
    resources,
    brokerId,
    brokerProps,
    sgId,
    adminSecretId,
    appSecretId,
    definitionsId,
    subnetRefs,
    ofType,
    rulesOfSg,
    sgOf,
    statementsOf,
    allowedOn,
    environmentOf,
  };
}

describe('RabbitMqBroker', () => {
  describe('the broker', () => {
    const s = synth(fixture());

    it('is an Amazon MQ for RabbitMQ broker, never publicly accessible, behind its own security group', () => {
      s.template.resourceCountIs('AWS::AmazonMQ::Broker', 1);
      expect(s.brokerProps.EngineType).toBe('RABBITMQ');
      expect(s.brokerProps.PubliclyAccessible).toBe(false);
      expect(s.brokerProps.SecurityGroups).toEqual([{ 'Fn::GetAtt': [s.sgId, 'GroupId'] }]);
    });

    it('sends its general logs to CloudWatch and is encrypted at rest', () => {
      expect(s.brokerProps.Logs).toEqual({ General: true });
      expect(s.brokerProps.EncryptionOptions).toEqual({ UseAwsOwnedKey: true });
    });

    it('is a single mq.t3.micro instance in one isolated subnet by default', () => {
      expect(s.brokerProps.DeploymentMode).toBe('SINGLE_INSTANCE');
      expect(s.brokerProps.HostInstanceType).toBe('mq.t3.micro');
      const isolated = s.subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      expect(isolated).toHaveLength(3);
      expect(s.brokerProps.SubnetIds).toEqual(isolated.slice(0, 1));
    });

    it('takes the admin password from Secrets Manager through a dynamic reference', () => {
      const user = only(s.brokerProps.Users as { Username: string; Password: unknown }[]);
      expect(user.Username).toBe('admin');
      expect(user.Password).toEqual({
        'Fn::Join': [
          '',
          ['{{resolve:secretsmanager:', { Ref: s.adminSecretId }, ':SecretString:password::}}'],
        ],
      });
      const parts = (user.Password as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      expect(parts[0]).toContain('{{resolve:secretsmanager:');
    });

    it('has no literal password, credential or random-looking token anywhere in the template', () => {
      expect(credentialLeaks(s.json)).toEqual([]);
    });

    it('generates the admin and application credentials in Secrets Manager', () => {
      const secrets = s.ofType('AWS::SecretsManager::Secret');
      expect(secrets.map(([id]) => id).sort()).toEqual([s.adminSecretId, s.appSecretId].sort());
      const usernames: string[] = [];
      for (const [id, secret] of secrets) {
        expect(secret.Properties.SecretString, id).toBeUndefined();
        const generate = secret.Properties.GenerateSecretString as {
          SecretStringTemplate: string;
          GenerateStringKey: string;
          PasswordLength: number;
          ExcludePunctuation: boolean;
        };
        expect(generate.GenerateStringKey, id).toBe('password');
        // Amazon MQ: at least 12 characters, no commas, colons or equal signs.
        expect(generate.PasswordLength, id).toBeGreaterThanOrEqual(12);
        expect(generate.ExcludePunctuation, id).toBe(true);
        const template = JSON.parse(generate.SecretStringTemplate) as Record<string, unknown>;
        expect(Object.keys(template), id).toEqual(['username']);
        usernames.push(template.username as string);
      }
      expect(usernames.sort()).toEqual(['admin', 'platform-app']);
    });

    it('has a security group with no ingress from the internet and no allow-all egress', () => {
      const ingress = s.rulesOfSg('Ingress');
      const egress = s.rulesOfSg('Egress');
      expect(ingress.length).toBeGreaterThan(0);
      expect(egress.length).toBeGreaterThan(0);
      expect(openRules(ingress)).toEqual([]);
      expect(openRules(egress)).toEqual([]);
      // Ingress only from security groups (the pollers' own, the definitions function's)
      for (const rule of ingress) {
        expect(rule.CidrIp).toBeUndefined();
        expect(rule.SourceSecurityGroupId).toBeDefined();
        expect([AMQPS_PORT, MANAGEMENT_PORT]).toContain(rule.FromPort);
        expect(rule.ToPort).toBe(rule.FromPort);
      }
      // Egress: AMQPS to itself (the pollers), HTTPS inside the VPC (the AWS endpoints)
      expect(egress).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            IpProtocol: 'tcp',
            FromPort: AMQPS_PORT,
            DestinationSecurityGroupId: { 'Fn::GetAtt': [s.sgId, 'GroupId'] },
          }),
          expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, CidrIp: expect.anything() }),
        ]),
      );
      expect(egress).toHaveLength(2);
    });

    it('applies its definitions through Custom::RabbitMqDefinitions, at the management URL from ConsoleURLs', () => {
      const [id, resource] = only(s.ofType('Custom::RabbitMqDefinitions'));
      expect(id).toBe(s.definitionsId);
      expect(resource.Properties.Definitions).toEqual(JSON.parse(JSON.stringify(DEFINITIONS)));
      expect(resource.Properties.ManagementUrl).toEqual({
        'Fn::Select': [0, { 'Fn::GetAtt': [s.brokerId, 'ConsoleURLs'] }],
      });
      expect(resource.Properties.AdminSecretArn).toEqual({ Ref: s.adminSecretId });
      expect(resource.Properties.AppUserSecretArn).toEqual({ Ref: s.appSecretId });
      // The provider is the definitions function, which reaches the management API (HTTPS) and reads both secrets.
      const functionId = getAttId(resource.Properties.ServiceToken) ?? '';
      expect(s.resources[functionId]?.Type).toBe('AWS::Lambda::Function');
      const vpcConfig = s.resources[functionId]?.Properties.VpcConfig as
        | { SecurityGroupIds: unknown[] }
        | undefined;
      const fnSgs = (vpcConfig?.SecurityGroupIds ?? []).map(getAttId);
      expect(fnSgs).toHaveLength(1);
      const https = s.rulesOfSg('Ingress').filter((r) => fnSgs.includes(getAttId(r.SourceSecurityGroupId)));
      expect(https).toEqual([
        expect.objectContaining({ FromPort: MANAGEMENT_PORT, ToPort: MANAGEMENT_PORT }),
      ]);
      const roleId = getAttId(s.resources[functionId]?.Properties.Role) ?? '';
      const readable = s
        .ofType('AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => refId(r) === roleId))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'))
        .flatMap(resourcesOf);
      expect(readable).toEqual(expect.arrayContaining([{ Ref: s.adminSecretId }, { Ref: s.appSecretId }]));
    });
  });

  describe('the credential scan (it can fail)', () => {
    it('finds a literal admin password set through an escape hatch', () => {
      const f = fixture();
      f.broker.broker.users = [{ username: 'admin', password: 'Tr0ub4dorAndHorse' }];
      const leaks = credentialLeaks(synth(f).json);
      expect(leaks).toEqual([
        expect.objectContaining({
          value: 'Tr0ub4dorAndHorse',
          path: expect.stringMatching(/Users\.0\.Password$/),
        }),
      ]);
    });

    it('finds a URL with a password and a password inside a JSON string', () => {
      const f = fixture();
      const fn = clientIn(f, 'Client');
      fn.function.addEnvironment('RABBITMQ_URL', 'amqps://platform-app:hunter2hunter2@b-1.mq.example:5671');
      fn.function.addEnvironment('CREDENTIALS_JSON', '{"username":"app","password":"hunter2hunter2"}');
      const leaks = credentialLeaks(synth(f).json).map((l) => l.why);
      expect(leaks.sort()).toEqual(['URL with a password', 'inline credential']);
    });

    it('finds a random-looking token', () => {
      const f = fixture();
      clientIn(f, 'Client').function.addEnvironment('SESSION', 'q8ZrT2mXv9LpK4sW7nB1');
      expect(credentialLeaks(synth(f).json)).toEqual([
        expect.objectContaining({ why: 'random-looking token', value: 'q8ZrT2mXv9LpK4sW7nB1' }),
      ]);
    });
  });

  describe('the security group check (it can fail)', () => {
    it('flags ingress from anywhere and allow-all egress', () => {
      const f = fixture();
      f.broker.connections.allowFrom(ec2.Peer.anyIpv4(), ec2.Port.tcp(AMQPS_PORT));
      f.broker.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.allTcp());
      const s = synth(f);
      expect(openRules(s.rulesOfSg('Ingress'))).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0' })]);
      expect(openRules(s.rulesOfSg('Egress'))).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0' })]);
    });
  });

  describe('a Multi-AZ cluster', () => {
    const s = synth(fixture({ deploymentMode: 'CLUSTER_MULTI_AZ' }));

    it('is an mq.m5.large cluster in all the isolated subnets', () => {
      expect(s.brokerProps.DeploymentMode).toBe('CLUSTER_MULTI_AZ');
      expect(s.brokerProps.HostInstanceType).toBe('mq.m5.large');
      const isolated = s.subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      expect(isolated).toHaveLength(3);
      expect(s.brokerProps.SubnetIds).toEqual(isolated);
      expect(s.brokerProps.SubnetIds).not.toEqual(
        s.subnetRefs({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }),
      );
      expect(s.brokerProps.PubliclyAccessible).toBe(false);
    });
  });

  describe('definitions RabbitMQ would refuse', () => {
    it('fails synth on a binding from an exchange that is not defined', () => {
      const definitions: BrokerDefinitions = {
        ...DEFINITIONS,
        bindings: [...DEFINITIONS.bindings, { source: 'missing', destination: 'work', routingKey: 'x' }],
      };
      expect(() => fixture({ definitions })).toThrow(
        'TestStack/Rabbit: RabbitMQ would refuse these definitions:\n' +
          '- binding "missing" -> queue "work" (routing key "x"): source exchange "missing" is not defined',
      );
    });

    it('fails synth on a dead-letter exchange that is not defined', () => {
      const definitions: BrokerDefinitions = {
        ...DEFINITIONS,
        queues: [...DEFINITIONS.queues, { name: 'orphan', deadLetterExchange: 'nowhere' }],
      };
      expect(() => fixture({ definitions })).toThrow(
        /TestStack\/Rabbit: RabbitMQ would refuse these definitions:\n- queue "orphan": dead-letter exchange "nowhere" is not defined$/,
      );
    });

    it('accepts the same definitions without the mistake (the checks above can pass)', () => {
      expect(() => fixture()).not.toThrow();
    });
  });

  describe('addEventSource', () => {
    const f = fixture();
    const consumer = clientIn(f, 'Consumer');
    const other = clientIn(f, 'Other');
    const mapping = f.broker.addEventSource(consumer.function, { queue: 'work' });
    f.broker.addEventSource(other.function, {
      queue: 'work.dead',
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(5),
    });
    const s = synth(f);
    const mappings = s.ofType('AWS::Lambda::EventSourceMapping');
    const mappingOf = (fn: PlatformFunction) =>
      only(
        mappings.filter(
          ([, m]) =>
            refId(m.Properties.FunctionName) ===
            f.stack.getLogicalId(fn.function.node.defaultChild as CfnElement),
        ),
      );

    it('maps the queue of the broker to the function, as the application user in the vhost', () => {
      expect(mappings).toHaveLength(2);
      const [id, m] = mappingOf(consumer);
      expect(id).toBe(f.stack.getLogicalId(mapping));
      expect(m.Properties).toEqual({
        FunctionName: { Ref: f.stack.getLogicalId(consumer.function.node.defaultChild as CfnElement) },
        EventSourceArn: { 'Fn::GetAtt': [s.brokerId, 'Arn'] },
        Queues: ['work'],
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 0,
        SourceAccessConfigurations: [
          { Type: 'BASIC_AUTH', URI: { Ref: s.appSecretId } },
          { Type: 'VIRTUAL_HOST', URI: DEFINITIONS.vhost },
        ],
      });
    });

    it('takes the batch size and batching window given', () => {
      const [, m] = mappingOf(other);
      expect(m.Properties).toMatchObject({
        Queues: ['work.dead'],
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 5,
      });
    });

    it('starts polling only once the definitions (and so the queue) exist', () => {
      for (const [id, m] of mappings) expect(m.DependsOn, id).toContain(s.definitionsId);
    });

    it('lets the function describe that broker and read the application secret, not the admin one', () => {
      expect(s.allowedOn(consumer, 'mq:DescribeBroker')).toEqual([{ 'Fn::GetAtt': [s.brokerId, 'Arn'] }]);
      const readable = s.allowedOn(consumer, 'secretsmanager:GetSecretValue');
      expect(readable).toContainEqual({ Ref: s.appSecretId });
      expect(readable).not.toContainEqual({ Ref: s.adminSecretId });
      expect(readable).not.toContain('*');
    });

    it('refuses a queue that is not in the definitions', () => {
      const g = fixture();
      const fn = clientIn(g, 'Consumer');
      expect(() => g.broker.addEventSource(fn.function, { queue: 'nope' })).toThrow(
        'TestStack/Rabbit: no queue "nope" in the broker\'s definitions',
      );
    });
  });

  describe('grantConnect', () => {
    const f = fixture();
    const client = clientIn(f, 'Client');
    const bystander = clientIn(f, 'Bystander');
    f.broker.grantConnect(client.function);
    const s = synth(f);

    it('tells the function the AMQPS endpoint, the vhost and the application secret', () => {
      const env = s.environmentOf(client);
      // The broker's first AMQPS endpoint, directly or echoed by the definitions resource (so that
      // functions connect only once the definitions exist)
      expect(env.RABBITMQ_ENDPOINT).toEqual(f.stack.resolve(f.broker.amqpEndpoint));
      expect(s.throughDefinitions(env.RABBITMQ_ENDPOINT)).toEqual({
        'Fn::Select': [0, { 'Fn::GetAtt': [s.brokerId, 'AmqpEndpoints'] }],
      });
      expect(env.RABBITMQ_VHOST).toBe(DEFINITIONS.vhost);
      expect(env.RABBITMQ_SECRET_ARN).toEqual({ Ref: s.appSecretId });
      expect(s.environmentOf(bystander).RABBITMQ_ENDPOINT).toBeUndefined();
    });

    it("lets the function's security group in on AMQPS (5671) only", () => {
      const fromClient = s
        .rulesOfSg('Ingress')
        .filter((r) => getAttId(r.SourceSecurityGroupId) === s.sgOf(client));
      expect(fromClient).toEqual([
        expect.objectContaining({ IpProtocol: 'tcp', FromPort: 5671, ToPort: 5671 }),
      ]);
      expect(AMQPS_PORT).toBe(5671);
      const fromBystander = s
        .rulesOfSg('Ingress')
        .filter((r) => getAttId(r.SourceSecurityGroupId) === s.sgOf(bystander));
      expect(fromBystander).toEqual([]);
    });

    it('lets the function read the application secret only', () => {
      const readable = s.allowedOn(client, 'secretsmanager:GetSecretValue');
      expect(readable).toEqual([{ Ref: s.appSecretId }]);
      expect(s.allowedOn(bystander, 'secretsmanager:GetSecretValue')).toEqual([]);
    });
  });

  describe('cdk-nag', () => {
    it('finds nothing on a broker with a client, acknowledging only SMG4 on its two secrets', () => {
      // GIVEN a broker with a connected client
      const f = fixture();
      f.broker.grantConnect(clientIn(f, 'Client').function);
      // THEN
      expect(nagFindings(f.stack)).toEqual([]);
      // The broker's own acknowledgements (its definitions function's are PlatformFunction's)
      const own = Object.fromEntries(
        Object.entries(acknowledgedIds(f.broker)).filter(
          ([path]) => !path.startsWith('TestStack/Rabbit/Definitions/'),
        ),
      );
      expect(own).toEqual({
        'TestStack/Rabbit/AdminSecret': ['AwsSolutions-SMG4'],
        'TestStack/Rabbit/AppSecret': ['AwsSolutions-SMG4'],
      });
    });

    it('finds nothing on an event source mapping, whose missing on-failure destination is acknowledged', () => {
      // GIVEN a broker with an event source
      const f = fixture();
      const mapping = f.broker.addEventSource(clientIn(f, 'Consumer').function, { queue: 'work' });
      // THEN the Serverless pack is satisfied: Amazon MQ event sources take no on-failure destination
      // (the queue's dead-letter exchange and delivery limit are the dead-letter path)
      expect(nagFindings(f.stack)).toEqual([]);
      expect(acknowledgedIds(mapping)).toEqual({
        [mapping.node.path]: ['Serverless-LambdaEventSourceMappingDestination'],
      });
    });
  });
});
