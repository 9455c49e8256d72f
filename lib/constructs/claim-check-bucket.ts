import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { PlatformFunction } from './platform-function.js';

/** Objects are written under this prefix, named by event id. */
export const CLAIM_CHECK_PREFIX = 'events/';

export interface ClaimCheckBucketProps {
  /** @default - a generated name */
  readonly bucketName?: string;
  /** Objects expire after this long: longer than any message may wait in a queue or DLQ. @default 14 days */
  readonly expiration?: Duration;
  /** @default RemovalPolicy.DESTROY: objects are transient copies */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where oversized messages wait while their reference travels (claim check): KMS-encrypted (S3's
 * managed key),
 * TLS-only, never public, objects expiring after the longest queue retention.
 */
export class ClaimCheckBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ClaimCheckBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'ExpireClaimChecks', expiration: props.expiration ?? Duration.days(14) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Transient copies of messages, written and read only by the platform roles named in the bucket policy grants; object-level access is audited through CloudTrail data events, not a second bucket of access logs.',
    });
  }

  /** PutObject under `events/` of the bucket named `bucketName` (may live in another stack). */
  static grantPut(grantee: PlatformFunction, bucketName: string): void {
    ClaimCheckBucket.#grant(grantee, bucketName, 's3:PutObject');
  }

  /** GetObject under `events/` of the bucket named `bucketName` (may live in another stack). */
  static grantRead(grantee: PlatformFunction, bucketName: string): void {
    ClaimCheckBucket.#grant(grantee, bucketName, 's3:GetObject');
  }

  /**
   * Grants by name rather than by a reference to the bucket, so the ARN holds no cross-stack token
   * and the narrow prefix grant can be acknowledged precisely. The objects use the S3-managed KMS
   * key, which S3 applies for any principal allowed the object action: no key grant is needed.
   */
  static #grant(grantee: PlatformFunction, bucketName: string, action: string): void {
    grantee.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [action],
        resources: [`arn:${Aws.PARTITION}:s3:::${bucketName}/${CLAIM_CHECK_PREFIX}*`],
      }),
    );
    const policy = grantee.role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const name = bucketName
      .replaceAll(Aws.ACCOUNT_ID, '<AWS::AccountId>')
      .replaceAll(Aws.REGION, '<AWS::Region>');
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${name}/${CLAIM_CHECK_PREFIX}*]`,
      reason: `Claim-check objects are named by event id at run time; the grant is ${action} on the ${CLAIM_CHECK_PREFIX} prefix of this one bucket.`,
    });
  }
}

/** The claim-check bucket's name for a stage: deterministic, so other stacks grant by name. */
export function claimCheckBucketName(stage: string): string {
  return `platform-${stage}-claim-checks-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}
