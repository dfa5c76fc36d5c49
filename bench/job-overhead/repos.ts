/** The generated repositories the jobs run on, and the per-repository directories the git arms use. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBaselineMirror } from './baseline.js';
import type { RepoKind } from './options.js';
import { GIT_ENV, git, gitSync, now } from './shared.js';

export interface RepoInfo {
  kind: RepoKind;
  path: string;
  files: number;
  generateMs: number;
}

/** A repository and where the git arms keep their checkouts, clones and mirror for it. */
export interface RepoFixture {
  repo: RepoInfo;
  worktrees: string;
  clones: string;
  mirror: string;
}

function makeSmallRepo(root: string): RepoInfo {
  const started = now();
  const dir = join(root, 'repo-small');
  mkdirSync(join(dir, 'src'), { recursive: true });
  const files: Record<string, string> = {
    'README.md': '# small bench repo\n',
    'hello.txt': 'hello\n',
    'package.json': '{ "name": "small", "version": "1.0.0" }\n',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's content is a JS template literal
    'src/index.js': 'export const greet = (n) => `hello ${n}`;\n',
    'src/util.js': 'export const add = (a, b) => a + b;\n',
  };
  for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
  gitSync(dir, 'init', '-q', '-b', 'main');
  gitSync(dir, 'add', '-A');
  gitSync(dir, 'commit', '-q', '-m', 'initial');
  return { kind: 'small', path: dir, files: Object.keys(files).length, generateMs: now() - started };
}

/** `count` files of a few hundred bytes: top/NN/sub/NN/fileNNN.ts, 50 files per leaf dir, 20 leaf dirs per top dir. */
function makeLargeRepo(root: string, count: number): RepoInfo {
  const started = now();
  const dir = join(root, `repo-large-${count}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README.md'), `# generated bench repo with ${count} files\n`);
  const perLeaf = 50;
  const leavesPerTop = 20;
  let made = 0;
  for (let leaf = 0; made < count; leaf++) {
    const top = Math.floor(leaf / leavesPerTop);
    const leafDir = join(dir, 'pkg', `m${String(top).padStart(3, '0')}`, `d${String(leaf % leavesPerTop).padStart(2, '0')}`);
    mkdirSync(leafDir, { recursive: true });
    for (let i = 0; i < perLeaf && made < count; i++, made++) {
      const body =
        `// generated file ${made}\n` +
        `export const id${made} = ${made};\n` +
        `export function f${made}(x: number): number {\n  return x * ${made % 97} + ${made % 13};\n}\n` +
        `// ${randomBytes(24).toString('hex')}\n`;
      writeFileSync(join(leafDir, `file${String(i).padStart(3, '0')}.ts`), body);
    }
  }
  gitSync(dir, 'init', '-q', '-b', 'main');
  gitSync(dir, 'add', '-A');
  gitSync(dir, 'commit', '-q', '-m', `initial: ${count} generated files`);
  return { kind: 'large', path: dir, files: count + 1, generateMs: now() - started };
}

export function makeRepo(root: string, kind: RepoKind, largeFiles: number): RepoInfo {
  return kind === 'small' ? makeSmallRepo(root) : makeLargeRepo(root, largeFiles);
}

/** The git arms' directories for `repo`, with the baseline's mirror already fetched. */
export async function repoFixture(root: string, repo: RepoInfo): Promise<RepoFixture> {
  const worktrees = join(root, 'bench-worktrees', repo.kind);
  const clones = join(root, 'bench-clones', repo.kind);
  mkdirSync(worktrees, { recursive: true });
  mkdirSync(clones, { recursive: true });
  const mirror = join(root, 'bench-mirrors', `${repo.kind}.git`);
  await ensureBaselineMirror(repo.path, mirror);
  return { repo, worktrees, clones, mirror };
}

/** Deletes the branches that jobs and baselines pushed, so later scenarios fetch the same number of refs. */
export async function resetOrigin(origin: string): Promise<number> {
  const refs = (await git(origin, 'for-each-ref', '--format=%(refname)', 'refs/heads/drover', 'refs/heads/bench'))
    .split('\n')
    .filter(Boolean);
  if (refs.length === 0) return 0;
  const stdin = refs.map((r) => `delete ${r}\n`).join('');
  await new Promise<void>((res, rej) => {
    const child = execFile('git', ['update-ref', '--stdin'], { cwd: origin, env: GIT_ENV }, (err) => (err ? rej(err) : res()));
    child.stdin?.end(stdin);
  });
  return refs.length;
}
