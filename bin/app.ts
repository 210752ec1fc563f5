#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { createStacks } from '../lib/create-stacks';
import { parseDeployConfig } from '../lib/deploy-config';

// The built-in CloudFormation schema check triples the synth time (~10 s of CPU); the test suite runs it
// once on the same stacks (test/lib/create-stacks.test.ts), so every deploy need not.
const app = new App({ builtinCloudFormationValidation: false });
createStacks(app, parseDeployConfig((key) => app.node.tryGetContext(key)));
