/**
 * Every git operation Drover performs. The only module that imports simple-git.
 *
 * Git here only ever reads configuration the worker wrote: each job has its own git directory outside its
 * worktree (objects shared with the repository's mirror through alternates), every command names that
 * directory and the work tree explicitly, hooks and fsmonitor are off, and whatever a job leaves in its
 * worktree (a `.git` of its own included) is just content. Every command is bounded by a timeout, can be
 * cancelled, never prompts, and may use only the protocols the worker enables.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit } from 'simple-git';
import { runPlumbing } from './plumbing.js';
import { SpawnerError, type Spawner } from './spawner.js';
import { killTaggedProcesses, TAG_ENV } from '../runtimes/process-tags.js';
import { AppError } from '../shared/errors.js';
import type { FileChange } from '../shared/schemas.js';

const DROVER_IDENTITY = { name: 'Drover', email: 'drover@localhost' };
const MAX_FILES = 200;
/** Marks every process of one git call, so a timeout or cancel can stop its helpers too. */
const CALL_ENV = 'DROVER_GIT_CALL';

export type GitStep = 'clone' | 'fetch' | 'push' | 'local';

export interface GitOptions {
  /** Per kind of step, in ms. */
  timeouts: Record<GitStep, number>;
  /** Where local git commands start (the worker's spawner); default: this process. */
  spawner?: Spawner;
  /** Network protocols a repository may use (file is allowed for local repositories only). */
  protocols: readonly string[];
}

/** One call's context: the activity's cancellation, and the job whose processes these are. */
export interface GitCall {
  signal?: AbortSignal;
  /** The job's process tag, so the job's cleanup and the worker's sweep find stray git processes. */
  tag?: string;
}

/** A job's repository as the worker keeps it: its own git directory, and the worktree the agent edits. */
export interface JobRepo {
  gitdir: string;
  worktree: string;
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  size: number;
}

/** An editor or pager would wait for a person: git never gets one (npm, for one, exports EDITOR). */
const NOT_FOR_GIT = /^(editor|visual|pager|git_editor|git_pager|git_sequence_editor)$/i;
/**
 * The worker's own GIT_* variables (GIT_SSH_COMMAND, GIT_ASKPASS, GIT_CONFIG_*, GIT_SSL_CAINFO), SSH_ASKPASS
 * and PREFIX are trusted settings for reaching private repositories; simple-git refuses them unless allowed.
 */
const WORKER_GIT_ENV = Object.keys(process.env).filter((k) => /^(git_.*|ssh_askpass|prefix)$/i.test(k) && !NOT_FOR_GIT.test(k));
/** They may name programs, which simple-git refuses unless told the values are trusted: they are the worker's. */
const TRUSTED_ENV = {
  allowUnsafeSshCommand: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeGitProxy: true,
  allowUnsafeExec: true,
} as const;
/** Settings no repository can undo: the command line outranks every config file. */
const HARDENED = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'submodule.recurse=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'protocol.allow=never',
];
const GITLINK = '160000';
/** In a job's git directory: the tree the worktree had after setup. */
const SETUP_TREE = 'drover-setup-tree';

export class GitCancelled extends Error {
  constructor() {
    super('git command cancelled');
    this.name = 'GitCancelled';
  }
}

export function createGit(opts: GitOptions) {
  interface Run {
    step: GitStep;
    cwd?: string;
    repo?: JobRepo;
    gitdir?: string;
    /** Allow the file protocol: the repository is a local path. */
    local?: boolean;
  }

  async function git(run: Run, args: string[], call: GitCall = {}): Promise<string> {
    const id = randomUUID();
    const timeoutMs = opts.timeouts[run.step];
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    const protocols = [...opts.protocols, ...(run.local ? ['file'] : [])].map((p) => `protocol.${p}.allow=always`);
    const gitdir = run.repo?.gitdir ?? run.gitdir;
    const explicit = gitdir ? [`--git-dir=${gitdir}`, ...(run.repo ? [`--work-tree=${run.repo.worktree}`] : [])] : [];
    const cwd = run.cwd ?? run.repo?.worktree ?? gitdir ?? '/';
    const config = [...HARDENED, ...protocols];
    const env = gitEnv(id, call.tag);
    try {
      if (run.step === 'local')
        return await runPlumbing([...config.flatMap((c) => ['-c', c]), ...explicit, ...args], {
          cwd,
          env,
          signal,
          ...(opts.spawner ? { spawner: opts.spawner } : {}),
        });
      const g = simpleGit({
        baseDir: cwd,
        binary: 'git',
        trimmed: true,
        abort: signal,
        config,
        allowEnvironment: [...WORKER_GIT_ENV, 'GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND'],
        unsafe: {
          ...TRUSTED_ENV,
          allowUnsafeHooksPath: true,
          allowUnsafeFsMonitor: true,
          allowUnsafeProtocolOverride: true,
          allowUnsafeConfigPaths: true,
        },
      }).env(env);
      return await g.raw([...explicit, ...args]);
    } catch (err) {
      if (!signal.aborted) {
        // The spawner died under the call: what git started may still hold locks (index.lock).
        if (err instanceof SpawnerError) await killTaggedProcesses(CALL_ENV, id, 500);
        throw err;
      }
      // simple-git signals git itself; helpers it started (remote-https, receive-pack, a hook) may outlive it.
      await killTaggedProcesses(CALL_ENV, id, 500);
      if (call.signal?.aborted) throw new GitCancelled();
      const command = args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? 'command';
      throw new AppError(
        'GitFailed',
        `git ${command} timed out after ${Math.round(timeoutMs / 1000)}s (git.timeouts.${run.step}); is the remote answering?`,
      );
    }
  }

  const failed = (what: string, err: unknown): Error =>
    err instanceof AppError || err instanceof GitCancelled ? err : new AppError('GitFailed', `${what}: ${lastLine(err)}`, { cause: err });

  return {
    /**
     * A bare mirror of the origin: made once, then fetched. The URL and refspecs come from the job, never
     * from the mirror's config. Origin branches land under refs/remotes/origin, its HEAD at refs/drover/origin-head.
     */
    async syncMirror(repo: string, mirror: string, exists: boolean, local: boolean, call: GitCall): Promise<void> {
      const fetch = (dir: string, step: GitStep) =>
        git(
          { step, gitdir: dir, cwd: dir, local },
          [
            // --verbose: a fetch that prints nothing costs simple-git's 50 ms wait, inside the mirror's lock.
            'fetch',
            '--verbose',
            '--prune',
            '--no-write-fetch-head',
            '--',
            repo,
            '+HEAD:refs/drover/origin-head',
            '+refs/heads/*:refs/remotes/origin/*',
            '+refs/tags/*:refs/tags/*',
          ],
          call,
        );
      if (exists) {
        await fetch(mirror, 'fetch').catch((err) => {
          throw failed(`fetch ${repo}`, err);
        });
        return;
      }
      // Made under a temporary name and renamed, so a crash never leaves a half-made mirror behind.
      const staging = `${mirror}.tmp-${process.pid}-${Date.now()}`;
      try {
        await git({ step: 'local', cwd: '/' }, ['init', '--quiet', '--bare', staging], call);
        await fetch(staging, 'clone');
        await rename(staging, mirror);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        if (
          /does not appear to be a git repository|not found|does not exist|Could not read from remote|couldn't find remote ref HEAD/i.test(
            String((err as Error)?.message),
          )
        ) {
          throw new AppError('RepoNotFound', `cannot clone ${repo}: ${lastLine(err)}`, { cause: err });
        }
        throw failed(`clone ${repo}`, err);
      }
    },

    /** Resolves a base ref the way a user means it: origin's HEAD, an origin branch, a tag, or a commit. */
    async resolveBase(mirror: string, base: string, call: GitCall): Promise<string> {
      // A bare commit id is the last reading; a plain name must be an origin branch or a tag.
      const named =
        base === 'HEAD' ? ['refs/drover/origin-head'] : [`refs/remotes/origin/${base.replace(/^origin\//, '')}`, `refs/tags/${base}`];
      const candidates = /^[0-9a-f]{7,40}$/i.test(base) ? [...named, base] : named;
      for (const ref of candidates) {
        const sha = await revParse(mirror, `${ref}^{commit}`, call);
        if (sha) return sha;
      }
      throw new AppError('BaseRefNotFound', `base ref ${JSON.stringify(base)} not found in the repository`);
    },

    /** The origin's copy of a branch as of the mirror's last fetch, or null. */
    async originBranch(mirror: string, branch: string, call: GitCall): Promise<string | null> {
      return revParse(mirror, `refs/remotes/origin/${branch}`, call);
    },

    /**
     * The job's git directory (objects from the mirror through alternates, the branch at `sha`, an exclude
     * list) and a checkout of `sha` into the worktree.
     */
    async createJobRepo(
      req: { mirror: string; repo: JobRepo; branch: string; sha: string; exclude: string[] },
      call: GitCall,
    ): Promise<void> {
      writeGitDir(req.repo.gitdir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
      mkdirSync(req.repo.worktree, { recursive: true });
      await git({ step: 'local', repo: req.repo }, ['read-tree', '-u', '--reset', req.sha], call).catch((err) => {
        throw failed(`check out ${req.sha}`, err);
      });
    },

    /**
     * A spare checkout of `sha`, made ahead of the job that will take it: a git directory (for its index) and
     * a worktree, under `dir`. Only the worker writes it; no job sees it before adoptSpare hands it to one.
     */
    async makeSpare(req: { mirror: string; dir: string; sha: string }, call: GitCall): Promise<void> {
      const repo = spareRepo(req.dir);
      writeGitDir(repo.gitdir, { mirror: req.mirror, branch: 'drover/spare', sha: req.sha, exclude: [], bare: false });
      mkdirSync(repo.worktree, { recursive: true });
      await git({ step: 'local', repo }, ['read-tree', '-u', '--reset', req.sha], call).catch((err) => {
        throw failed(`check out ${req.sha}`, err);
      });
    },

    /**
     * What createJobRepo makes, from a spare checkout of `spareSha` moved into place (a rename) and brought
     * to `sha` by a two-way read-tree, which writes only the files that differ.
     */
    async adoptSpare(
      req: { mirror: string; repo: JobRepo; branch: string; sha: string; exclude: string[]; spareDir: string; spareSha: string },
      call: GitCall,
    ): Promise<void> {
      const spare = spareRepo(req.spareDir);
      writeGitDir(req.repo.gitdir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
      await rename(join(spare.gitdir, 'index'), join(req.repo.gitdir, 'index'));
      mkdirSync(dirname(req.repo.worktree), { recursive: true });
      await rename(spare.worktree, req.repo.worktree);
      if (req.spareSha === req.sha) return;
      // A two-way read-tree leaves files it need not rewrite as they are: had .gitattributes changed (line
      // endings, ident), those would differ from a fresh checkout.
      const attributes = await git(
        { step: 'local', gitdir: req.repo.gitdir },
        ['diff', '--name-only', '--no-renames', req.spareSha, req.sha, '--', ':(glob)**/.gitattributes'],
        call,
      );
      if (attributes)
        throw new AppError('GitFailed', `.gitattributes changed between ${req.spareSha.slice(0, 12)} and ${req.sha.slice(0, 12)}`);
      await git({ step: 'local', repo: req.repo }, ['read-tree', '-u', '-m', req.spareSha, req.sha], call).catch((err) => {
        throw failed(`check out ${req.sha}`, err);
      });
    },

    /**
     * A repository of the agent's own at `<worktree>/.git`, so it can run `git status` and `git diff`: the
     * same objects and index, nothing shared that the worker reads. Host runtime only: a container cannot
     * see the mirror's objects.
     */
    createAgentRepo(req: { mirror: string; repo: JobRepo; branch: string; sha: string; exclude: string[] }): void {
      const dir = join(req.repo.worktree, '.git');
      writeGitDir(dir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
      copyFileSync(join(req.repo.gitdir, 'index'), join(dir, 'index'));
    },

    /**
     * The entries at these paths in a commit's tree: mode, object id and size. A path the commit does not
     * have is absent. Reads objects only, never the worktree: a cache key or the repository's config is
     * what the commit holds, whatever the job did since.
     */
    async treeEntries(gitdir: string, sha: string, paths: string[], call: GitCall): Promise<Map<string, TreeEntry>> {
      if (paths.length === 0) return new Map();
      const out = await git(
        { step: 'local', gitdir },
        ['--literal-pathspecs', 'ls-tree', '-z', '--long', '--full-tree', sha, '--', ...paths],
        call,
      );
      const entries = new Map<string, TreeEntry>();
      for (const record of out.split('\0').filter(Boolean)) {
        const m = /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(record);
        if (m) entries.set(m[5]!, { mode: m[1]!, type: m[2]!, oid: m[3]!, size: m[4] === '-' ? 0 : Number(m[4]) });
      }
      return entries;
    },

    /** A blob's content (the caller checked its size with treeEntries). */
    async readBlob(gitdir: string, oid: string, call: GitCall): Promise<string> {
      return git({ step: 'local', gitdir }, ['cat-file', 'blob', oid], call);
    },

    /**
     * Records what setup left in the worktree (a lockfile npm wrote, a generated file): it belongs to the
     * environment, not the job, and is left out of the commit unless the agent changed it further.
     */
    async markSetupTree(repo: JobRepo, base: string, call: GitCall): Promise<void> {
      // A retried setup marks afresh: the last attempt's marker would unstage what setup made before write-tree.
      await rm(join(repo.gitdir, SETUP_TREE), { force: true });
      await stageAll(repo, base, call);
      const tree = await git({ step: 'local', repo }, ['write-tree'], call);
      writeFileSync(join(repo.gitdir, SETUP_TREE), `${tree}\n`);
    },

    /** Keeps these untracked paths out of the job's commit (files copied in for the job, never its work). */
    excludeFromCommit(gitdir: string, paths: string[]): void {
      // Each path literally: glob characters and a leading "!" or "#" escaped.
      const lines = paths.map((p) => `/${p.replace(/[*?[\]\\!#]/g, '\\$&').replace(/ $/, '\\ ')}\n`);
      appendFileSync(join(gitdir, 'info', 'exclude'), lines.join(''));
    },

    /** The worktree's changes since base, staged, as a unified diff (for the critic). */
    async stagedDiff(repo: JobRepo, base: string, call: GitCall): Promise<string> {
      await stageAll(repo, base, call);
      return git({ step: 'local', repo }, ['diff', '--cached', '--no-ext-diff', '--no-textconv', base, '--'], call);
    },

    /**
     * Commits the worktree on the job branch with `base` as the one parent, whatever the agent did with git.
     * Idempotent: a retry after the commit was made returns it. Returns null when nothing changed.
     */
    async commitJob(
      req: { repo: JobRepo; branch: string; base: string; message: string; trailers: Record<string, string> },
      call: GitCall,
    ): Promise<string | null> {
      const run: Run = { step: 'local', repo: req.repo };
      const ref = `refs/heads/${req.branch}`;
      const current = await revParse(req.repo.gitdir, ref, call);
      if (current && current !== req.base && (await isJobCommit(req.repo, current, req.base, req.trailers, call))) return current;
      try {
        await stageAll(req.repo, req.base, call);
        const tree = await git(run, ['write-tree'], call);
        if (tree === (await git(run, ['rev-parse', `${req.base}^{tree}`], call))) return null;
        const trailers = Object.entries(req.trailers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n');
        const identity = await identityArgs(req.repo.gitdir, call);
        const sha = await git(run, [...identity, 'commit-tree', tree, '-p', req.base, '-m', req.message.trim(), '-m', trailers], call);
        await git(run, ['update-ref', '-m', 'drover commit', ref, sha, current ?? ''], call);
        return sha;
      } catch (err) {
        throw failed('commit', err);
      }
    },

    /**
     * Pushes exactly `sha` to the origin's job branch, with a lease: the branch must be where the mirror last
     * saw it (or absent). Pushing a sha the origin already has there is a no-op, so a retry succeeds.
     */
    async pushCommit(
      req: { gitdir: string; url: string; local: boolean; branch: string; sha: string; expected: string | null },
      call: GitCall,
    ): Promise<void> {
      const ref = `refs/heads/${req.branch}`;
      try {
        await git(
          { step: 'push', gitdir: req.gitdir, local: req.local },
          ['push', '--porcelain', `--force-with-lease=${ref}:${req.expected ?? ''}`, '--', req.url, `${req.sha}:${ref}`],
          call,
        );
      } catch (err) {
        if (/stale info|\[rejected\]|fetch first|non-fast-forward/i.test(String((err as Error)?.message))) {
          throw new AppError(
            'PushRejected',
            `${req.branch} in the origin moved to a commit Drover did not make; not overwriting it (${lastLine(err)})`,
            { cause: err },
          );
        }
        throw failed(`push ${req.branch}`, err);
      }
    },

    async changedFiles(gitdir: string, base: string, commit: string, call: GitCall): Promise<{ files: FileChange[]; truncated: number }> {
      const out = await git(
        { step: 'local', gitdir },
        ['diff', '--numstat', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', base, commit, '--'],
        call,
      );
      const files = out
        .split('\0')
        .filter(Boolean)
        .map((entry) => {
          const [added, deleted, ...rest] = entry.split('\t');
          const num = (n: string | undefined) => (n === undefined || n === '-' ? null : Number(n));
          return { path: rest.join('\t'), added: num(added), deleted: num(deleted) };
        });
      return { files: files.slice(0, MAX_FILES), truncated: Math.max(0, files.length - MAX_FILES) };
    },

    /** Local branches under refs/heads/drover/ (the mirror had one per job before job git directories). */
    async legacyJobBranches(mirror: string, call: GitCall): Promise<string[]> {
      const out = await git({ step: 'local', gitdir: mirror }, ['for-each-ref', '--format=%(refname)', 'refs/heads/drover/'], call);
      return out.split('\n').filter(Boolean);
    },

    async deleteRef(gitdir: string, ref: string, call: GitCall): Promise<void> {
      await git({ step: 'local', gitdir }, ['update-ref', '-d', ref], call);
    },

    /** Whether a local path is a git repository (for checking a job at submit). */
    async isGitRepo(dir: string): Promise<boolean> {
      return git({ step: 'local', cwd: dir }, ['rev-parse', '--git-dir']).then(
        () => true,
        () => false,
      );
    },
  };

  /**
   * Stages the worktree. A nested repository the agent made or repointed (a directory with a `.git`, which
   * may name any repository on the host) would be recorded as a submodule commit: such entries are put back
   * as they are in base, and if any remains the commit is refused.
   */
  async function stageAll(repo: JobRepo, base: string, call: GitCall): Promise<void> {
    const run: Run = { step: 'local', repo };
    await git(run, ['add', '-A'], call);
    await unstageSetupOutput(run, repo, base, call);
    const nested = await gitlinkChanges(run, base, call);
    if (nested.length === 0) return;
    // Paths as bytes, through a file: a name need not be UTF-8, and argv could not carry it.
    const list = join(repo.gitdir, 'drover-nested-paths');
    writeFileSync(list, Buffer.concat(nested.flatMap((path) => [path, Buffer.from([0])])));
    await git(run, ['--literal-pathspecs', 'reset', '--quiet', `--pathspec-from-file=${list}`, '--pathspec-file-nul', base], call);
    if ((await gitlinkChanges(run, base, call)).length > 0) {
      throw new AppError('AgentProtocolError', 'the worktree holds nested git repositories that could not be left out of the commit');
    }
  }

  /** Paths setup changed and the agent left as setup made them go back to base in the index. */
  async function unstageSetupOutput(run: Run, repo: JobRepo, base: string, call: GitCall): Promise<void> {
    let setupTree: string;
    try {
      setupTree = readFileSync(join(repo.gitdir, SETUP_TREE), 'utf8').trim();
    } catch {
      return;
    }
    const changedPaths = async (args: string[]) => {
      const out = await git(run, ['diff', '--raw', '-z', '--no-renames', '--no-abbrev', '--no-ext-diff', ...args, '--'], call);
      // -z: ":<modes> <ids> <status>\0<path>\0" per entry; paths as raw bytes would need Buffers, and
      // simple-git gives text, so a path that is not UTF-8 is simply not recognized (and stays committed).
      return out.split('\0').filter((_, i) => i % 2 === 1);
    };
    const bySetup = await changedPaths([base, setupTree]);
    if (bySetup.length === 0) return;
    const changedSince = new Set(await changedPaths(['--cached', setupTree]));
    const untouched = bySetup.filter((p) => !changedSince.has(p));
    if (untouched.length === 0) return;
    const list = join(repo.gitdir, 'drover-setup-paths');
    writeFileSync(list, untouched.map((p) => `${p}\0`).join(''));
    await git(run, ['--literal-pathspecs', 'reset', '--quiet', `--pathspec-from-file=${list}`, '--pathspec-file-nul', base], call);
  }

  /** Staged gitlinks that differ from base, their paths as bytes (git quotes unusual names C-style). */
  async function gitlinkChanges(run: Run, base: string, call: GitCall): Promise<Buffer[]> {
    const raw = await git(run, ['-c', 'core.quotePath=true', 'diff', '--cached', '--raw', '--no-renames', '--no-abbrev', base, '--'], call);
    return raw
      .split('\n')
      .map((line) => /^:\d{6} (\d{6}) [0-9a-f]+ [0-9a-f]+ [A-Z]\d*\t(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m?.[1] === GITLINK)
      .map((m) => unquotePath(m[2]!));
  }

  async function revParse(gitdir: string, rev: string, call: GitCall): Promise<string | null> {
    const out = await git({ step: 'local', gitdir }, ['rev-parse', '--verify', '--quiet', '--end-of-options', rev], call).catch((err) => {
      if (err instanceof AppError || err instanceof GitCancelled) throw err;
      return '';
    });
    return out || null;
  }

  /** A commit this job made before (a retry after the commit): base is its only parent, its trailers are ours. */
  async function isJobCommit(repo: JobRepo, sha: string, base: string, trailers: Record<string, string>, call: GitCall): Promise<boolean> {
    const out = await git({ step: 'local', gitdir: repo.gitdir }, ['log', '-1', '--format=%P%x00%B', sha, '--'], call);
    const [parents, body = ''] = out.split('\0');
    return parents === base && Object.entries(trailers).every(([k, v]) => body.includes(`${k}: ${v}`));
  }

  /** Commits as the worker's configured git user, or as Drover when it has none. */
  async function identityArgs(gitdir: string, call: GitCall): Promise<string[]> {
    const email = await git({ step: 'local', gitdir }, ['config', 'user.email'], call).catch(() => '');
    return email ? [] : ['-c', `user.name=${DROVER_IDENTITY.name}`, '-c', `user.email=${DROVER_IDENTITY.email}`];
  }
}

export type Git = ReturnType<typeof createGit>;

const spareRepo = (dir: string): JobRepo => ({ gitdir: join(dir, 'git'), worktree: join(dir, 'worktree') });

/** Git's environment: the worker's, never prompting, and tagged so stray processes can be found. */
function gitEnv(callId: string, tag: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !NOT_FOR_GIT.test(k)) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  // ssh would ask on the terminal for a passphrase or a host key; a worker has nobody to answer.
  if (env.GIT_SSH === undefined) env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
  env[CALL_ENV] = callId;
  if (tag) env[TAG_ENV] = tag;
  return env;
}

/** A git directory written by hand: everything in it is the worker's. */
function writeGitDir(dir: string, g: { mirror: string; branch: string; sha: string; exclude: string[]; bare: boolean }): void {
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

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A path as git prints it with core.quotePath: plain ASCII, or "C-quoted" with octal bytes. */
export function unquotePath(text: string): Buffer {
  if (!text.startsWith('"')) return Buffer.from(text, 'utf8');
  const bytes: number[] = [];
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = text[i + 1]!;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes);
}

const lastLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .trim()
    .split('\n')
    .filter(Boolean)
    .slice(-1)[0] ?? '';
