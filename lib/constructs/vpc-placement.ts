import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where a broker or cache goes when its props say nothing: the VPC's isolated subnets (no route
 * to the internet), else its private ones.
 */
export function dataSubnets(vpc: ec2.IVpc, selection?: ec2.SubnetSelection): ec2.SelectedSubnets {
  return vpc.selectSubnets(
    selection ??
      (vpc.isolatedSubnets.length > 0
        ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
        : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }),
  );
}

/**
 * A client function's security groups allow all outbound traffic, so the egress rule that
 * `connections.allowTo` adds is redundant (CDK warns); the broker or cache restricts who comes in.
 */
export function acknowledgeOpenEgress(fn: ec2.IConnectable): void {
  for (const sg of fn.connections.securityGroups) {
    Annotations.of(sg).acknowledgeWarning(
      '@aws-cdk/aws-ec2:ipv4IgnoreEgressRule',
      'Function security groups allow all outbound traffic; the broker or cache restricts who may come in.',
    );
  }
}
