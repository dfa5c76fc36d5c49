/**
 * Agents and repositories that attack the worker, on the real dev server, real git and the real Docker
 * engine. Every attack plants commands that would create a marker file on the host if the worker ran them;
 * each test checks on the host that the marker directory stays empty, that no host file was written or
 * chowned, and how the job ended.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import { connectEngine } from '../../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../../src/runtimes/docker/image.js';
import type { JobResult, JobSpecInput } from '../../src/shared/schemas.js';
import {
  git,
  historyText,
  makeRepo,
  startTestEnv,
  startTestServer,
  tempDir,
  waitFor,
  type TestEnv,
  type TestServer,
} from '../support/harness.js';

const HOOKS = [
  'pre-commit',
  'commit-msg',
  'post-commit',
  'reference-transaction',
  'post-index-change',
  'pre-push',
  'post-checkout',
  'post-update',
  'pre-auto-gc',
];

/**
 * Bash that makes EVIL a git directory whose every hook, fsmonitor, external diff and clean filter would
 * touch a marker in M, with alternates at MIRROR so that a git using it would find the job's base commit.
 */
const evilGitDir = `
git init -q --bare "$EVIL"
git --git-dir="$EVIL" config core.bare false
git --git-dir="$EVIL" config core.fsmonitor "touch $M/fsmonitor; false"
git --git-dir="$EVIL" config core.hooksPath "$EVIL/hooks"
git --git-dir="$EVIL" config diff.external "sh -c 'touch $M/diff-external'"
git --git-dir="$EVIL" config filter.evil.clean "sh -c 'touch $M/filter-clean; cat'"
git --git-dir="$EVIL" config filter.evil.required true
mkdir -p "$EVIL/hooks" "$EVIL/objects/info"
for h in ${HOOKS.join(' ')}; do printf '#!/bin/sh\\ntouch %s/hook-%s\\n' "$M" "$h" > "$EVIL/hooks/$h"; chmod +x "$EVIL/hooks/$h"; done
echo "$MIRROR/objects" > "$EVIL/objects/info/alternates"
echo '* filter=evil' > .gitattributes
`;

describe('a hostile agent or repository cannot reach the worker', () => {
  let server: TestServer;
  let env: TestEnv;

  before(async () => {
    await buildAgentImage(connectEngine(), { progress: (l) => process.stderr.write(`image: ${l}\n`) });
    server = await startTestServer();
    env = await startTestEnv(server.address, { worker: { docker: true }, docker: { poolSize: 1 } });
  });
  after(async () => {
    await env?.stop();
    await server?.stop();
  });

  const mirrorOf = (repo: string) => dataPaths(env.config.dataDir).mirror(repo);
  const markersIn = (dir: string) => readdirSync(dir);
  const finish = async (jobId: string) => {
    const report = await waitFor(
      'the job to end',
      async () => {
        const r = await env.client.status(jobId);
        return r.execution === 'RUNNING' ? undefined : r;
      },
      120_000,
    );
    return report;
  };
  /** The job's branch in the origin holds exactly the commit the result names. */
  const assertBranchIsResult = (repo: string, jobId: string, result: JobResult) => {
    assert.equal(git(repo, 'rev-parse', `drover/${jobId}`), result.commit);
    assert.equal(git(repo, 'rev-parse', `drover/${jobId}^`), result.baseCommit, 'the parent is the job base');
  };

  for (const runtime of ['docker', 'host'] as const) {
    describe(`runtime ${runtime}`, () => {
      const job = (repo: string, agent: string, extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
        repo,
        prompt: 'Attack the worker',
        agent: { kind: 'command', command: agent },
        runtime: runtime === 'docker' ? { kind: 'docker' } : { kind: 'host' },
        ...extra,
      });

      it('(a) an agent that replaces .git with a repository whose config sets core.fsmonitor and core.hooksPath: nothing runs on the host', async () => {
        const M = tempDir('drover-markers-');
        const repo = makeRepo();
        const agent = `M=${M}; MIRROR=${mirrorOf(repo)}; EVIL="$PWD/.git"
echo attacked >> hello.txt
rm -rf .git
${evilGitDir}`;
        const { jobId } = await env.client.submit(
          job(repo, agent, {
            validate: [{ name: 'edited', command: 'grep -q attacked hello.txt' }],
            critic: { command: 'cat >/dev/null; echo \'{"approve": true}\'' },
          }),
        );
        const result = await env.client.result(jobId);
        assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
        assert.deepEqual(markersIn(M), [], 'no hook, fsmonitor, diff or filter command ran on the host');
        assertBranchIsResult(repo, jobId, result);
        assert.match(git(repo, 'show', `drover/${jobId}:hello.txt`), /attacked/);
        assert.doesNotMatch(git(repo, 'ls-tree', '-r', '--name-only', `drover/${jobId}`), /^\.git\//m);
      });

      it('(b) an agent that points .git at a git directory it controls: nothing runs on the host', async () => {
        const M = tempDir('drover-markers-');
        const repo = makeRepo();
        const agent = `M=${M}; MIRROR=${mirrorOf(repo)}; EVIL="$PWD/.evil-gitdir"
echo attacked >> hello.txt
rm -rf .git
${evilGitDir}
printf 'gitdir: %s\\n' "$EVIL" > .git`;
        const { jobId } = await env.client.submit(job(repo, agent, { critic: { command: 'cat >/dev/null; echo \'{"approve": true}\'' } }));
        const result = await env.client.result(jobId);
        assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
        assert.deepEqual(markersIn(M), []);
        assertBranchIsResult(repo, jobId, result);
      });

      it('(c) an agent that plants hooks and config in the mirror: nothing runs, in this job or the next one on the repository', async () => {
        const M = tempDir('drover-markers-');
        const repo = makeRepo();
        const mirror = mirrorOf(repo);
        // On the host the agent finds the mirror the way an attacker would: through its own .git's alternates.
        const find = runtime === 'host' ? 'MIRROR=$(dirname "$(cat .git/objects/info/alternates)")' : `MIRROR=${mirror}`;
        const agent = `M=${M}; ${find}
echo attacked >> hello.txt
mkdir -p "$MIRROR/hooks" 2>/dev/null || true
for h in ${HOOKS.join(' ')}; do printf '#!/bin/sh\\ntouch %s/mirror-hook-%s\\n' "$M" "$h" > "$MIRROR/hooks/$h" 2>/dev/null && chmod +x "$MIRROR/hooks/$h"; done
git --git-dir="$MIRROR" config core.hooksPath "$MIRROR/hooks" 2>/dev/null || true
git --git-dir="$MIRROR" config core.fsmonitor "touch $M/mirror-fsmonitor; false" 2>/dev/null || true
git --git-dir="$MIRROR" config remote.origin.url "ext::sh -c touch% $M/mirror-ext" 2>/dev/null || true
true`;
        const first = await env.client.submit(job(repo, agent));
        const r1 = await env.client.result(first.jobId);
        assert.equal(r1.status, 'succeeded', JSON.stringify(r1.failure));
        const second = await env.client.submit(job(repo, 'echo again >> hello.txt'));
        const r2 = await env.client.result(second.jobId);
        assert.equal(r2.status, 'succeeded', JSON.stringify(r2.failure));
        assert.deepEqual(markersIn(M), [], 'no planted hook ran during commit, push or the next fetch');
        assertBranchIsResult(repo, second.jobId, r2);
        const planted = readdirSync(join(mirror, 'hooks')).filter((h) => !h.endsWith('.sample'));
        if (runtime === 'docker') assert.deepEqual(planted, [], 'the container cannot reach the mirror at all');
        else assert.ok(planted.length > 0, 'on the host the agent could write them (the host runtime is no sandbox), yet none ran');
      });

      it('(d) a repository that commits .drover as a link to a host directory: nothing there is written or chowned', async () => {
        const victim = tempDir('drover-victim-');
        writeFileSync(join(victim, 'keep.txt'), 'host file\n');
        const before = statSync(victim);
        const repo = makeRepo();
        symlinkSync(victim, join(repo, '.drover'));
        git(repo, 'add', '-A');
        git(repo, 'commit', '-q', '-m', 'ship .drover as a link');
        // Asks through the run directory; in a container it also tries to swap that directory for a link (on
        // the host the agent is the worker's own user: nothing stops it, and the worker would refuse to write).
        const swap =
          runtime === 'docker'
            ? `RUN=$(dirname "$DROVER_PROMPT_FILE"); mv "$RUN" "$RUN.moved" 2>/dev/null && ln -s ${victim} "$RUN" 2>/dev/null`
            : '';
        const agent = `${swap}
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which greeting?"}' > "$DROVER_QUESTION_FILE"; exit 0; fi
cp "$DROVER_ANSWER_FILE" greeting.txt`;
        const { jobId } = await env.client.submit(job(repo, agent));
        await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);
        await env.client.answer(jobId, 'Ahoy');
        const result = await env.client.result(jobId);
        assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
        assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy');
        assert.deepEqual(readdirSync(victim), ['keep.txt'], 'no prompt, answer or question file landed in the host directory');
        const now = statSync(victim);
        assert.deepEqual([now.uid, now.gid, now.mode], [before.uid, before.gid, before.mode], 'not chowned');
        assert.equal(lstatSync(join(repo, '.drover')).isSymbolicLink(), true);
        assert.equal(git(repo, 'cat-file', '-p', `drover/${jobId}:.drover`), victim, 'the link is committed as it came');
      });

      it('an agent that leaves processes behind: they end with its run, before checks and the commit read the worktree', async () => {
        const secret = join(tempDir('drover-secret-'), 'secret.txt');
        const token = `TOPSECRET-${Date.now()}`;
        writeFileSync(secret, `${token}\n`, { mode: 0o600 });
        const repo = makeRepo();
        // A racer swaps bait files for links to a host file while the worker's git would be reading them, and
        // a sleeper just lingers. Neither may outlive the agent's run.
        const agent = `for i in $(seq 1 100); do echo bait > bait-$i.txt; done
setsid bash -c 'while :; do for i in $(seq 1 100); do ln -sf ${secret} .l-$i && mv -f .l-$i bait-$i.txt; echo bait > .f-$i && mv -f .f-$i bait-$i.txt; done; done' >/dev/null 2>&1 < /dev/null &
setsid sleep 6007 >/dev/null 2>&1 < /dev/null &
echo started`;
        // [6] keeps pgrep from finding the check's own command line.
        const { jobId } = await env.client.submit(
          job(repo, agent, { validate: [{ name: 'nothing left', command: `! pgrep -f 'sleep [6]007' >/dev/null` }] }),
        );
        const result = await env.client.result(jobId);
        assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
        assert.ok(result.validations[0]!.checks[0]!.passed, 'the sleeper was gone when the check ran');
        assert.match(git(repo, 'show', `drover/${jobId}:bait-1.txt`), /^(bait|\/.*secret\.txt)$/, 'a bait file is bait or the link itself');
        assert.throws(() => git(repo, 'grep', '-q', token, `drover/${jobId}`, '--'), { status: 1 }, 'no host file content in the commit');
      });

      it('an agent that makes a nested repository pointing at a host repository: no submodule entry is committed', async () => {
        const hostRepo = makeRepo();
        const repo = makeRepo();
        const { jobId } = await env.client.submit(
          job(
            repo,
            `mkdir -p sub && printf 'gitdir: %s\\n' ${join(hostRepo, '.git')} > sub/.git && echo ok > sub/file.txt && echo x > top.txt`,
          ),
        );
        const result = await env.client.result(jobId);
        assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
        const tree = git(repo, 'ls-tree', '-r', `drover/${jobId}`);
        assert.doesNotMatch(tree, /^160000/m, 'no gitlink');
        assert.ok(!tree.includes(git(hostRepo, 'rev-parse', 'HEAD')), "the host repository's commit id is not recorded");
        assert.match(tree, /\ttop\.txt$/m);
      });

      for (const where of ['run directory', 'legacy .drover/question.json'] as const) {
        it(`refuses a question file (${where}) that is a link to a host file: AgentProtocolError, and the file's content goes nowhere`, async () => {
          const secret = join(tempDir('drover-secret-'), 'secret.json');
          const token = `TOPSECRET-${Date.now()}`;
          writeFileSync(secret, JSON.stringify({ question: token }));
          const file = where === 'run directory' ? '"$DROVER_QUESTION_FILE"' : '.drover/question.json';
          const { jobId } = await env.client.submit(job(makeRepo(), `ln -sf ${secret} ${file}`));
          const report = await finish(jobId);
          assert.equal(report.failure?.type, 'AgentProtocolError', JSON.stringify(report.failure));
          assert.match(report.failure?.message ?? '', /symbolic link/);
          assert.ok(
            !historyText(await env.client.handle(jobId).fetchHistory()).includes(token),
            'the host file was not read into the history',
          );
          assert.ok(!readFileSync(dataPaths(env.config.dataDir).jobLog(jobId), 'utf8').includes(token), 'nor into the job log');
        });
      }
    });
  }

  it('an agent that switches branch and commits: the job branch holds its changes, and the result names that commit', async () => {
    const repo = makeRepo();
    const agent = `git switch -q -c other
echo from-other > other.txt
git add -A
git -c user.name=a -c user.email=a@x commit -q -m "agent's own commit"
git checkout -q --detach HEAD`;
    const { jobId } = await env.client.submit({
      repo,
      prompt: 'Switch branch',
      agent: { kind: 'command', command: agent },
      runtime: { kind: 'host' },
    });
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assertBranchIsResult(repo, jobId, result);
    assert.equal(git(repo, 'show', `drover/${jobId}:other.txt`), 'from-other');
    assert.match(git(repo, 'log', '-1', '--format=%B', `drover/${jobId}`), new RegExp(`Drover-Job: ${jobId}`));
    assert.equal(existsSync(join(dataPaths(env.config.dataDir).jobGitDir(jobId))), false, 'the job git directory is removed');
  });
});
