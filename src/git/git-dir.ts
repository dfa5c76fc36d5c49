/** Git directories the worker writes itself, file by file, instead of asking git to make them. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A git directory written by hand: everything in it is the worker's. */
export function writeGitDir(dir: string, g: { mirror: string; branch: string; sha: string; exclude: string[]; bare: boolean }): void {
  for (const sub of ['objects/info', 'objects/pack', 'refs/tags', 'info', `refs/heads/${g.branch.split('/').slice(0, -1).join('/')}`]) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  writeFileSync(
    join(dir, 'config'),
    `[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = ${g.bare}\n\tlogallrefupdates = false\n`,
  );
  writeFileSync(join(dir, 'HEAD'), `ref: refs/heads/${g.branch}\n`);
  writeFileSync(join(dir, 'refs', 'heads', ...g.branch.split('/')), `${g.sha}\n`);
  writeFileSync(join(dir, 'objects', 'info', 'alternates'), `${join(g.mirror, 'objects')}\n`);
  writeFileSync(join(dir, 'info', 'exclude'), g.exclude.map((p) => `${p}\n`).join(''));
  // The repository's .gitattributes must not start filter programs, not even ones the worker's config defines.
  writeFileSync(join(dir, 'info', 'attributes'), '* -filter\n');
}

/** Keeps these untracked paths out of the job's commit (files copied in for the job, never its work). */
export function excludeFromCommit(gitdir: string, paths: string[]): void {
  // Each path literally: glob characters and a leading "!" or "#" escaped.
  const lines = paths.map((p) => `/${p.replace(/[*?[\]\\!#]/g, '\\$&').replace(/ $/, '\\ ')}\n`);
  appendFileSync(join(gitdir, 'info', 'exclude'), lines.join(''));
}
