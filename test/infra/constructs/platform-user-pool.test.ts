import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PlatformUserPool } from '../../../lib/constructs/platform-user-pool.js';
import { nagFindings, newStack, templateOf } from '../helpers.js';

describe('PlatformUserPool', () => {
  it('lets only administrators create accounts, signed in by email', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new PlatformUserPool(stack, 'Users');
    // THEN
    templateOf(stack).hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  it('requires MFA with software tokens only (no SMS)', () => {
    const stack = newStack();
    new PlatformUserPool(stack, 'Users');
    templateOf(stack).hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it('requires 14-character passwords with every character class', () => {
    const stack = newStack();
    new PlatformUserPool(stack, 'Users');
    templateOf(stack).hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: {
          MinimumLength: 14,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
    });
  });

  it('keeps its security settings whatever userPoolProps says', () => {
    // GIVEN overrides that would weaken the pool if they were merged last
    const stack = newStack();
    // WHEN
    new PlatformUserPool(stack, 'Users', {
      userPoolProps: {
        selfSignUpEnabled: true,
        mfa: undefined,
        passwordPolicy: { minLength: 8 },
      } as never,
    });
    // THEN
    templateOf(stack).hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14 }) },
    });
  });

  it('has one public client for SRP sign-in: no secret, no password auth, no user-existence leak', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new PlatformUserPool(stack, 'Users');
    // THEN
    const t = templateOf(stack);
    t.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      UserPoolId: { Ref: Match.stringLikeRegexp('^UsersUserPool') },
    });
  });

  it('is retained and deletion-protected by default', () => {
    const stack = newStack();
    new PlatformUserPool(stack, 'Users');
    templateOf(stack).hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  it('can be destroyed, without deletion protection, when asked', () => {
    const stack = newStack();
    new PlatformUserPool(stack, 'Users', { removalPolicy: RemovalPolicy.DESTROY });
    templateOf(stack).hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtection: 'INACTIVE' }),
    });
  });

  it('has no unacknowledged cdk-nag finding (COG3/COG8 are acknowledged: feature plan)', () => {
    const stack = newStack();
    new PlatformUserPool(stack, 'Users');
    expect(nagFindings(stack)).toEqual([]);
  });
});
