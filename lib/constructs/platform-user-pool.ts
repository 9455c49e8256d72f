import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface PlatformUserPoolProps {
  /** @default RemovalPolicy.RETAIN: users are not recreated by a deploy */
  readonly removalPolicy?: RemovalPolicy;
  /** Overrides merged over the defaults; self sign-up, MFA and the password policy stay as set here. */
  readonly userPoolProps?: Omit<
    cognito.UserPoolProps,
    'selfSignUpEnabled' | 'mfa' | 'mfaSecondFactor' | 'passwordPolicy' | 'removalPolicy'
  >;
}

/**
 * The identity provider of the platform's APIs: a Cognito user pool whose ID tokens the REST API's
 * JWT authorizer accepts. Accounts are created by administrators (no self sign-up), sign in by
 * email, need TOTP MFA and a 14-character password; one public client for SRP sign-in.
 */
export class PlatformUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: PlatformUserPoolProps = {}) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      ...props.userPoolProps,
      selfSignUpEnabled: false,
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const planReason =
      'Threat protection (advanced security) needs the Plus feature plan, priced per active user; accounts are admin-created with TOTP MFA and a 14-character policy. Turn it on through userPoolProps.featurePlan where the risk warrants it.';
    for (const id of ['AwsSolutions-COG3', 'AwsSolutions-COG8']) {
      Validations.of(this.userPool).acknowledge({ id, reason: planReason });
    }
    this.client = this.userPool.addClient('ApiClient', {
      authFlows: { userSrp: true },
      // SRP sign-in only: no hosted-UI OAuth flows, callback URLs or scopes.
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
  }
}
