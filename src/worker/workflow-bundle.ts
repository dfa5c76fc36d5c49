/** The workflow code a worker runs: prebuilt by `npm run build`, or bundled from the sources. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleOption } from '@temporalio/worker';

/** Running from dist/ (compiled), or from the TypeScript sources through tsx (tests, development). */
const COMPILED = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${COMPILED ? 'js' : 'ts'}`, import.meta.url));
/** Made by `npm run build` with the rest of dist/. */
const PREBUILT_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

let bundle: Promise<WorkflowBundleOption> | undefined;
/**
 * The workflow code: the bundle the build made, when running from dist/; otherwise bundled once per process
 * (webpack: seconds, and memory the process keeps).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??=
    COMPILED && existsSync(PREBUILT_BUNDLE)
      ? Promise.resolve({ codePath: PREBUILT_BUNDLE })
      : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}
