import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EventStoreTable } from '../../../lib/constructs/event-store-table.js';
import { nagFindings, newStack, templateOf } from '../helpers.js';

describe('EventStoreTable', () => {
  it('keys events by aggregate id and version, with PITR, KMS and a new-image stream', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new EventStoreTable(stack, 'Events');
    // THEN
    const t = templateOf(stack);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'aggregateId', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'aggregateId', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('is retained on stack deletion unless told otherwise', () => {
    const stack = newStack();
    new EventStoreTable(stack, 'Events');
    templateOf(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const stack = newStack();
    new EventStoreTable(stack, 'Events');
    expect(nagFindings(stack)).toEqual([]);
  });
});
