import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.js';
import { PlatformNetwork } from '../network/platform-network.js';

export interface NetworkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Long-lived networking: changes rarely, and everything else depends on it. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly network: PlatformNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.network = new PlatformNetwork(this, 'Network', {
      cidr: config.network.cidr,
      // Zone letters a, b, c... exist in every region, so no account lookup is needed at synth.
      availabilityZones: Array.from(
        { length: config.network.maxAzs },
        (_, i) => `${config.region}${String.fromCharCode(97 + i)}`,
      ),
      natGateways: config.network.natGateways,
      interfaceEndpoints: config.network.interfaceEndpoints,
      flowLogRetention: config.network.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc = this.network.vpc;
  }
}
