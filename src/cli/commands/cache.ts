import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { configFrom } from '../context.js';
import { printJson, say } from '../output.js';

/** The dependency caches in this machine's data dir: read and removed locally, no server needed. */
export function registerCache(program: Command): void {
  const cache = program.command('cache').description("list or clear the dependency caches in this worker's data dir");
  const open = async (cmd: Command) => {
    const [{ createDepCache }, { dataPaths }, config] = await Promise.all([
      import('../../activities/dep-cache.js'),
      import('../../config/paths.js'),
      configFrom(cmd),
    ]);
    return createDepCache({ dir: dataPaths(config.dataDir).caches(), maxBytes: Infinity });
  };

  cache
    .command('list')
    .description('caches, most recently used first')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const entries = (await open(cmd)).list();
      if (flags.json) return printJson(entries);
      if (entries.length === 0) return say('no caches');
      const total = entries.reduce((sum, e) => sum + e.sizeBytes, 0);
      say(['KEY', 'SIZE', 'LAST USED', 'PATHS'].join('  '));
      for (const e of entries)
        say([e.key, mb(e.sizeBytes).padStart(9), e.usedAt.slice(0, 19).replace('T', ' '), e.paths.join(', ')].join('  '));
      say(`${entries.length} cache(s), ${mb(total)}`);
    });

  cache
    .command('clear')
    .description('remove every cache, or the ones named')
    .argument('[keys...]', 'cache keys (from `drover cache list`)')
    .option('--json', 'print JSON')
    .action(async (keys: string[], flags: { json?: boolean }, cmd: Command) => {
      const c = await open(cmd);
      const known = new Set(c.list().map((e) => e.key));
      const unknown = keys.filter((k) => !known.has(k));
      if (unknown.length) throw new AppError('JobNotFound', `no cache ${unknown.join(', ')} (see drover cache list)`);
      const doomed = keys.length ? keys : [...known];
      for (const key of doomed) c.remove(key);
      if (flags.json) printJson({ removed: doomed });
      else say(`removed ${doomed.length} cache(s)`);
    });
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
