import { createHash } from 'node:crypto';
import { serve } from '../workers/worker-rpc';
import type { Sha256Protocol } from './sha256';

serve<Sha256Protocol>(() => ({
  digest: (body) => createHash('sha256').update(body).digest('hex'),
}));
