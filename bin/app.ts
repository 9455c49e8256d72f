#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { loadStageConfig } from '../lib/config/stage-config.js';
import { addSecurityChecks, buildPlatform } from '../lib/platform.js';

// Synth needs no credentials: account and region come from context or the CLI's defaults, and
// stacks stay environment-agnostic when neither is set.
const app = new App();
const config = loadStageConfig(app.node.tryGetContext('stage'), app.node.tryGetContext('config'), {
  account: app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
  region: app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION,
});
buildPlatform(app, config);
addSecurityChecks(app);
app.synth();
