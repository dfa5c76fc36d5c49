/** Finds the Temporal server and SQL tool or builds them once (minutes), before the cluster integration tests need them. */
import { ensureTemporalServer, temporalSchemaDir } from '../src/temporal/server-binary.js';

const { server, sqlTool } = await ensureTemporalServer();
process.stderr.write(`temporal server: ${server}\ntemporal sql tool: ${sqlTool}\nschema: ${temporalSchemaDir()}\n`);
