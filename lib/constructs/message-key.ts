import type { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * The customer-managed key a messaging construct encrypts with when the caller brings none:
 * rotation on, described by the construct it protects.
 */
export function messageKey(
  scope: Construct,
  given: kms.IKey | undefined,
  removalPolicy: RemovalPolicy,
): kms.IKey {
  return (
    given ??
    new kms.Key(scope, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the messages of ${scope.node.path}`,
      removalPolicy,
    })
  );
}
