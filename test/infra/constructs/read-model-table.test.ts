import { type CfnElement, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { PlatformFunction } from '../../../lib/constructs/platform-function.js';
import { ReadModelTable } from '../../../lib/constructs/read-model-table.js';
import { NOOP_HANDLER, nagFindings, newStack, templateOf } from '../helpers.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const INDEXES = [
  { indexName: 'ByCustomer', partitionKey: 'customerId', sortKey: 'placedAt' },
  { indexName: 'ByStatus', partitionKey: 'status' },
];

function ordersView(stack: Stack, props: Partial<ConstructorParameters<typeof ReadModelTable>[2]> = {}) {
  return new ReadModelTable(stack, 'Orders', { partitionKey: 'orderId', indexes: INDEXES, ...props });
}

/** Logical id of an L2's CloudFormation resource. */
function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function granteeRole(stack: Stack, id: string): iam.Role {
  return new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
}

/** Every statement of the policies attached to a role. */
function statementsOf(t: Template, stack: Stack, role: iam.Role): Statement[] {
  const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('ReadModelTable', () => {
  it('keys views by a string partition key, with PITR and a rotating customer-managed key', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const view = ordersView(stack, { indexes: [] });
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, view.encryptionKey as kms.Key), 'Arn'] },
      },
      GlobalSecondaryIndexes: Match.absent(),
    });
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(view.indexNames).toEqual([]);
  });

  it('adds one all-projected GSI per index, with string keys and an optional sort key', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const view = ordersView(stack);
    // THEN
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'ByCustomer',
          KeySchema: [
            { AttributeName: 'customerId', KeyType: 'HASH' },
            { AttributeName: 'placedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'ByStatus',
          KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    const [table] = Object.values(t.findResources('AWS::DynamoDB::Table'));
    expect(table?.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['orderId', 'customerId', 'placedAt', 'status'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    );
    expect(table?.Properties.AttributeDefinitions).toHaveLength(4);
    expect(view.indexNames).toEqual(['ByCustomer', 'ByStatus']);
  });

  it('is deleted with the stack by default: a read model is rebuilt from the event store', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    ordersView(stack);
    // THEN
    const t = templateOf(stack);
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  it('is retained, with its key, when asked', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    ordersView(stack, { removalPolicy: RemovalPolicy.RETAIN });
    // THEN
    const t = templateOf(stack);
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('encrypts with a given key instead of creating one', () => {
    // GIVEN
    const stack = newStack();
    const shared = new kms.Key(stack, 'Shared', { enableKeyRotation: true });
    // WHEN
    const view = ordersView(stack, { encryptionKey: shared });
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: Match.objectLike({
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, shared), 'Arn'] },
      }),
    });
    expect(view.encryptionKey).toBe(shared);
  });

  it('grantProject gives GetItem and PutItem on the table only, and the key to encrypt and decrypt', () => {
    // GIVEN
    const stack = newStack();
    const view = ordersView(stack);
    const projector = granteeRole(stack, 'Projector');
    // WHEN
    view.grantProject(projector);
    // THEN
    const statements = statementsOf(templateOf(stack), stack, projector);
    const tableArn = { 'Fn::GetAtt': [logicalId(stack, view.table), 'Arn'] };
    const keyArn = { 'Fn::GetAtt': [logicalId(stack, view.encryptionKey as kms.Key), 'Arn'] };
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: tableArn },
    ]);
    expect(JSON.stringify(statements)).not.toContain('/index/');
    const kmsStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toHaveLength(1);
    expect(kmsStatements[0]?.Resource).toEqual(keyArn);
    expect(actionsOf(kmsStatements[0] as Statement)).toEqual(
      expect.arrayContaining(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*']),
    );
  });

  it('grantQuery gives GetItem and Query on the table and each named index only, and the key to decrypt', () => {
    // GIVEN
    const stack = newStack();
    const view = ordersView(stack);
    const reader = granteeRole(stack, 'Reader');
    // WHEN
    view.grantQuery(reader);
    // THEN
    const statements = statementsOf(templateOf(stack), stack, reader);
    const tableArn = { 'Fn::GetAtt': [logicalId(stack, view.table), 'Arn'] };
    const indexArn = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [tableArn, indexArn('ByCustomer'), indexArn('ByStatus')],
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('/index/*');
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [logicalId(stack, view.encryptionKey as kms.Key), 'Arn'] },
      },
    ]);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const stack = newStack();
    ordersView(stack);
    expect(nagFindings(stack)).toEqual([]);
  });

  it('has no unacknowledged cdk-nag finding when platform functions project and query it', () => {
    const stack = newStack();
    const view = ordersView(stack);
    const projector = new PlatformFunction(stack, 'Projector', { entry: NOOP_HANDLER, serviceName: 'p' });
    const reader = new PlatformFunction(stack, 'Reader', { entry: NOOP_HANDLER, serviceName: 'q' });
    view.grantProject(projector.function);
    view.grantQuery(reader.function);
    expect(nagFindings(stack)).toEqual([]);
  });
});
