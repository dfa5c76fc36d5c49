/** The runtimes under the contract, each started the way the worker starts it. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { DockerConfig } from '../../src/config/schema.js';
import { connectEngine, type Engine } from '../../src/runtimes/docker/engine.js';
import { AGENT_USER, defaultImageTag } from '../../src/runtimes/docker/image.js';
import { DockerPool } from '../../src/runtimes/docker/pool.js';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import type { Runtime } from '../../src/runtimes/runtime.js';
import { CONTRACT_MARK, type RuntimeSubject, type RuntimeUnderTest } from './runtime.contract.js';

const canonicalTempDir = (prefix: string) => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

/** The host runtime; `runtime` lets the self-test put a broken one in its place. */
export function hostSubject(opts: { name?: string; runtime?: Runtime } = {}): RuntimeSubject {
  return {
    name: opts.name ?? 'host',
    // The host runtime sets PWD to the cwd: some CLIs take it for their working directory.
    traits: { ambientEnv: ['PWD'], killTagged: 'by-tag', memory: false },
    start: async () => startHost(opts.runtime ?? createHostRuntime()),
  };
}

async function startHost(runtime: Runtime): Promise<RuntimeUnderTest> {
  const root = canonicalTempDir('drover-contract-host-');
  let n = 0;
  return {
    runtime,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
    async makeDir() {
      const dir = join(root, `w${++n}`);
      mkdirSync(dir);
      return dir;
    },
    leftovers: async (marker) => (await markedProcesses(marker)).map((p) => p.args),
    async stop() {
      // What a failed case (or a broken runtime) left: this suite's markers only, never anyone else's processes.
      for (const p of await markedProcesses(CONTRACT_MARK)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Live (not zombie) processes whose command line holds marker, read from /proc. */
async function markedProcesses(marker: string): Promise<{ pid: number; args: string }[]> {
  const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
  const found = await Promise.all(
    pids.map(async (pid) => {
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
      if (!args.includes(marker)) return [];
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return stat && state !== 'Z' ? [{ pid: Number(pid), args }] : [];
    }),
  );
  return found.flat();
}

const MEMORY_MB = 256;
const JOB = 'contract';

/**
 * The docker runtime in one warm container of a real pool (the agent image, network none, a memory limit),
 * claimed for one job as the worker claims it. No engine or no image fails the suite loudly; only
 * DROVER_TEST_NO_DOCKER=1 says there is none on purpose.
 */
export function dockerSubject(): RuntimeSubject {
  return {
    name: 'docker',
    // Docker sets HOSTNAME in every process of a container; HOME and PATH come from the image unless given.
    traits: { ambientEnv: ['HOSTNAME', 'HOME', 'PATH'], killTagged: 'all', memory: { limitMb: MEMORY_MB } },
    ...(process.env.DROVER_TEST_NO_DOCKER === '1' ? { skip: 'DROVER_TEST_NO_DOCKER=1: no Docker engine on this machine, by choice' } : {}),
    start: startDocker,
  };
}

async function startDocker(): Promise<RuntimeUnderTest> {
  const engine = connectEngine();
  const slotsDir = canonicalTempDir('drover-contract-slots-');
  const pool = new DockerPool(engine, {
    workerId: `contract-${randomBytes(3).toString('hex')}`,
    slotsDir,
    defaultImage: defaultImageTag(),
    config: DockerConfig.parse({ poolSize: 1, network: 'none', memory: `${MEMORY_MB}m` }),
    log: (line) => process.stderr.write(`docker pool: ${line}\n`),
  });
  const stop = async () => {
    try {
      await pool.shutdown();
      await pool.release(JOB);
    } finally {
      rmSync(slotsDir, { recursive: true, force: true });
    }
  };
  try {
    // Throws DockerUnavailable or DockerImageMissing (build it with `npm run agent-image`).
    await pool.start();
    await pool.warm();
    const slot = await pool.claim(JOB);
    const { runtime } = await pool.runtimeFor(JOB, join(slot.dir, JOB));
    let n = 0;
    return {
      runtime,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: join(slot.dir, '.home') },
      async makeDir() {
        const dir = join(slot.dir, `w${++n}`);
        mkdirSync(dir);
        pool.handToAgent(dir);
        return dir;
      },
      leftovers: () => agentProcesses(engine, slot.container),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw new Error(
      `the docker runtime could not start: ${(err as Error).message} (it needs the engine and the image, \`npm run agent-image\`; DROVER_TEST_NO_DOCKER=1 leaves it out on purpose)`,
      { cause: err },
    );
  }
}

/** Every live process of the agent's user in the container (the runtime's runs are that user's alone there). */
async function agentProcesses(engine: Engine, container: string): Promise<string[]> {
  const ps = await engine.exec({ container, argv: ['ps', '-u', AGENT_USER, '-o', 'stat=,args='], cwd: '/', env: {}, user: '0' });
  let out = '';
  ps.stdout.on('data', (d: Buffer) => (out += d.toString()));
  ps.stderr.resume();
  await Promise.all([ps.done, finished(ps.stdout)]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Z'))
    .map((l) => l.slice(l.indexOf(' ') + 1).trim());
}
