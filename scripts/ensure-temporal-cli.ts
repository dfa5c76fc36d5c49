/** Finds the Temporal CLI or builds it once (minutes), with progress, before the integration tests need it. */
import { ensureTemporalCli } from '../src/temporal/cli-binary.js';

const path = await ensureTemporalCli();
process.stderr.write(`temporal CLI: ${path}\n`);
