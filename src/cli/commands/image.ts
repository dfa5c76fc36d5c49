import type { Command } from 'commander';
import { defaultImageTag } from '../../runtimes/docker/image.js';
import { configFrom } from '../context.js';
import { note, printJson, say } from '../output.js';

export function registerImage(program: Command): void {
  const image = program.command('image').description('the agent image for runtime docker');
  image
    .command('build')
    .description('build the agent image locally (debootstrap + this Node + the agent CLIs), once; no registry needed')
    .option('--tag <name>', `image tag (default: ${defaultImageTag()})`)
    .option('--force', 'rebuild even if the image exists')
    .option('--json', 'print JSON')
    .action(async (flags: { tag?: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const [{ connectEngine }, { buildAgentImage }, config] = await Promise.all([
        import('../../runtimes/docker/engine.js'),
        import('../../runtimes/docker/image.js'),
        configFrom(cmd),
      ]);
      const tag = flags.tag ?? config.docker.image ?? defaultImageTag();
      const result = await buildAgentImage(connectEngine(config.docker.socket), {
        tag,
        ...(flags.force ? { force: true } : {}),
        progress: (line) => note(`drover image: ${line}`),
      });
      if (flags.json) printJson(result);
      else say(result.built ? `built ${result.tag} in ${result.seconds} s` : `${result.tag} is already built (--force rebuilds it)`);
    });
}
