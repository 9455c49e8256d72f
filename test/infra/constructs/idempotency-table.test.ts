import { type CfnElement, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_EXPIRY_ATTRIBUTE,
  IDEMPOTENCY_KEY_ATTRIBUTE,
  IdempotencyTable,
} from '../../../lib/constructs/idempotency-table.js';
import { nagFindings, newStack, templateOf } from '../helpers.js';

describe('IdempotencyTable', () => {
  it("uses the attribute names of Powertools' DynamoDBPersistenceLayer", () => {
    // The handlers construct the persistence layer with its defaults: `id` and `expiration`.
    expect(IDEMPOTENCY_KEY_ATTRIBUTE).toBe('id');
    expect(IDEMPOTENCY_EXPIRY_ATTRIBUTE).toBe('expiration');
  });

  it('keys records by id, expires them by TTL on expiration, with PITR and a rotating customer-managed key', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const idempotency = new IdempotencyTable(stack, 'Idempotency');
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdempotencyKey'), 'Arn'] },
      },
    });
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(idempotency.table.tableName).toBeDefined();
  });

  it('is deleted with the stack by default and retained when asked', () => {
    // GIVEN
    const byDefault = newStack();
    const retained = newStack(undefined, 'Retained');
    // WHEN
    new IdempotencyTable(byDefault, 'Idempotency');
    new IdempotencyTable(retained, 'Idempotency', { removalPolicy: RemovalPolicy.RETAIN });
    // THEN
    templateOf(byDefault).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    templateOf(retained).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    templateOf(retained).hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  it('encrypts with a given key instead of creating one', () => {
    // GIVEN
    const stack = newStack();
    const shared = new kms.Key(stack, 'Shared', { enableKeyRotation: true });
    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { encryptionKey: shared });
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: Match.objectLike({
        KMSMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(shared.node.defaultChild as CfnElement), 'Arn'] },
      }),
    });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const stack = newStack();
    new IdempotencyTable(stack, 'Idempotency');
    expect(nagFindings(stack)).toEqual([]);
  });
});
