import type { Command } from 'commander';

/** Options every operator command takes. */
export interface CommonOptions {
  json?: boolean;
  bucket?: string;
  run?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON for scripts instead of tables', false)
    .option('--bucket <name>', 'bucket holding the runs (default: output BucketName of stack FacepointsData)')
    .option(
      '--run <id>',
      'run id (default: output RunId of stack FacepointsTraining, else the newest run in the bucket)',
    )
    .option('--region <region>', "AWS region of the stacks (default: AWS_REGION, else the profile's region)")
    .option(
      '--profile <name>',
      'AWS named profile from ~/.aws/config (default: AWS_PROFILE or the default credential chain)',
    )
    .option(
      '--endpoint-url <url>',
      'S3-compatible endpoint such as a local S3 server; the stacks are then not consulted',
    );
}
