import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataFolders } from '../contracts/deploy-config';

/** `dataDir` as this machine sees it: the folder `cdk deploy` uploads from, read by the CDK app and preflight. */
export const localDataFolders: DataFolders = {
  resolve: (dir) => resolve(dir),
  filesIn: (dir) => (existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : null),
};
