#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { createStacksFromContext } from '../lib/create-stacks';

// The built-in CloudFormation schema check triples the synth time (~10 s of CPU); the test suite runs it
// once on the same stacks (test/lib/create-stacks.test.ts), so every deploy need not.
const app = new App({ builtinCloudFormationValidation: false });
// The CLI sets these from the deploying credentials: the VPC then spans every zone of the region (an
// environment-agnostic stack gets two), so the fleet has more zones to find GPU capacity in.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
createStacksFromContext(app, account && region ? { account, region } : undefined);
