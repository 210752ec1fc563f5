import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataFolders } from '../contracts/deploy-config';

/** `dataDir` as the machine running `cdk synth` or `cdk deploy` sees it. */
export const localDataFolders: DataFolders = {
  resolve: (dir) => resolve(dir),
  filesIn: (dir) => (existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : null),
};
