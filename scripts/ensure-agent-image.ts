/**
 * Builds the agent image once (minutes: debootstrap, the agent CLIs, the OpenHands SDK), with progress, before
 * the integration tests need it, so no test file spends its time limit on it. Without a Docker engine it says
 * so and leaves the Docker tests to report that themselves.
 */
import { connectEngine } from '../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../src/runtimes/docker/image.js';

const engine = connectEngine();
try {
  await engine.ping();
} catch (err) {
  process.stderr.write(`agent image: skipped, ${(err as Error).message}\n`);
  process.exit(0);
}
const { tag, built, seconds } = await buildAgentImage(engine, { progress: (line) => process.stderr.write(`agent image: ${line}\n`) });
process.stderr.write(built ? `agent image: built ${tag} in ${seconds}s\n` : `agent image: ${tag}\n`);
// dockerode may keep a socket open; this script is done.
process.exit(0);
