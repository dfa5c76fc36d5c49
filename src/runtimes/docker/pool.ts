import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DockerConfig } from '../../config/schema.js';
import { AppError } from '../../shared/errors.js';
import type { Runtime } from '../runtime.js';
import { containerRuntime, type OomCount } from './container-runtime.js';
import { LABEL_JOB, LABEL_SLOT, LABEL_WORKER, type Engine } from './engine.js';
import { AGENT_UID, AGENT_USER } from './image.js';

/**
 * A slot is a container plus the one host directory it sees (mounted at the same path inside). The job's
 * worktree is made in that directory, so a container started before the job was known can still see its
 * worktree and nothing else of the host.
 */
export interface Slot {
  id: string;
  dir: string;
  container: string;
  image: string;
  /** The OOM kills its container's runs have seen so far. */
  oom: OomCount;
}

export interface PoolOptions {
  workerId: string;
  slotsDir: string;
  defaultImage: string;
  config: DockerConfig;
  log?: (line: string) => void;
  /** Told each image's number of warm containers whenever it changes (the worker's gauge). */
  onIdleChange?: (image: string, idle: number) => void;
}

/**
 * Warm containers per image, made before jobs arrive; each job takes one for itself; after the job it is
 * destroyed and a fresh one started in the background. Every container carries drover.worker (and
 * drover.job when made for one job), so a restarted worker removes what a crash left behind.
 */
export class DockerPool {
  private readonly idle = new Map<string, Slot[]>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly claims = new Map<string, Slot>();
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly opts: PoolOptions,
  ) {}

  get defaultImage(): string {
    return this.opts.defaultImage;
  }

  /** Checks the engine and the default image, removes leftovers of an earlier run, and starts warming. */
  async start(): Promise<{ removed: number }> {
    await this.engine.ping();
    if (!(await this.engine.hasImage(this.opts.defaultImage))) {
      throw new AppError(
        'DockerImageMissing',
        `image ${this.opts.defaultImage} is not on this Docker engine; build it with \`drover image build\``,
      );
    }
    const removed = await this.removeLeftovers();
    void this.fill(this.opts.defaultImage);
    return { removed };
  }

  /**
   * A fresh slot for the job: a warm one, or one made now. A container the job held before goes first:
   * processes of an earlier attempt may still run in it.
   */
  async claim(jobId: string, image = this.opts.defaultImage): Promise<Slot> {
    await this.destroy(jobId);
    const warm = this.idle.get(image)?.shift();
    if (warm) this.idleChanged(image);
    if (warm && (await this.engine.isRunning(warm.container))) {
      // No refill now: making a container would compete with this job's start. It happens at release.
      this.claims.set(jobId, warm);
      return warm;
    }
    if (!(await this.engine.hasImage(image))) {
      throw new AppError(
        'DockerImageMissing',
        `image ${image} is not on this Docker engine; build it with \`drover image build\` or pull it`,
      );
    }
    const slot = await this.makeSlot(image, { [LABEL_JOB]: jobId });
    this.claims.set(jobId, slot);
    return slot;
  }

  /**
   * A runtime bound to the job's container. After a worker restart (or a container killed from outside) the
   * claim is gone: a new container is made for the job, mounting the slot directory its worktree is in.
   */
  async runtimeFor(jobId: string, worktree: string, image = this.opts.defaultImage): Promise<{ runtime: Runtime; made?: string }> {
    let slot = this.claims.get(jobId);
    let made: string | undefined;
    if (!slot || !(await this.engine.isRunning(slot.container))) {
      // Whatever is left of the job's containers (killed, or from before a restart) goes first.
      await this.release(jobId);
      slot = await this.makeSlot(image, { [LABEL_JOB]: jobId }, dirname(worktree));
      this.claims.set(jobId, slot);
      made = slot.container;
    }
    return { runtime: containerRuntime(this.engine, slot.container, slot.oom), ...(made ? { made } : {}) };
  }

  /**
   * Runs `work` (the worker's git reading the worktree) while nothing of the job can run: the job's
   * containers are stopped of their processes and frozen, and thawed afterwards. Fails closed: a container
   * that cannot be frozen is removed instead.
   */
  async frozen<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const held = this.claims.get(jobId);
    const containers = new Set([...(held ? [held.container] : []), ...(await this.engine.listByLabel(LABEL_JOB, jobId)).map((c) => c.id)]);
    const paused: string[] = [];
    for (const c of containers) {
      if (!(await this.engine.isRunning(c))) continue;
      await containerRuntime(this.engine, c).killTagged('');
      const ok = await this.engine.pause(c).then(
        () => true,
        () => false,
      );
      if (ok) paused.push(c);
      else await this.engine.remove(c);
    }
    try {
      return await work();
    } finally {
      await Promise.all(paused.map((c) => this.engine.unpause(c).catch(() => undefined)));
    }
  }

  /** Destroys the job's container, and starts a fresh one in the background. */
  async release(jobId: string): Promise<void> {
    const slot = await this.destroy(jobId);
    if (!this.closed) void this.fill(slot?.image ?? this.opts.defaultImage);
  }

  private async destroy(jobId: string): Promise<Slot | undefined> {
    const slot = this.claims.get(jobId);
    this.claims.delete(jobId);
    const containers = new Set([...(slot ? [slot.container] : []), ...(await this.engine.listByLabel(LABEL_JOB, jobId)).map((c) => c.id)]);
    await Promise.all([...containers].map((c) => this.engine.remove(c)));
    return slot;
  }

  /** The uid processes in the containers run as. */
  readonly agentUid = AGENT_UID;

  /** Hands a fresh checkout in a slot to the containers' user, before any of the job's processes ran. */
  handToAgent(path: string): void {
    chownTree(path);
  }

  /** Removes the slot directory a job's worktree was made in, once the worktree is gone. */
  removeSlotDir(worktree: string): void {
    const dir = dirname(worktree);
    if (dirname(dir) === this.opts.slotsDir) rmSync(dir, { recursive: true, force: true });
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.filling.values()]);
    const idle = [...this.idle.values()].flat();
    const images = [...this.idle.keys()];
    this.idle.clear();
    for (const image of images) this.idleChanged(image);
    await Promise.all(
      idle.map(async (s) => {
        await this.engine.remove(s.container);
        rmSync(s.dir, { recursive: true, force: true });
      }),
    );
  }

  idleCount(image = this.opts.defaultImage): number {
    return this.idle.get(image)?.length ?? 0;
  }

  private idleChanged(image: string): void {
    this.opts.onIdleChange?.(image, this.idleCount(image));
  }

  /** Waits until the warm set of an image is full (for tests and benches). */
  async warm(image = this.opts.defaultImage): Promise<void> {
    await this.fill(image);
  }

  private async removeLeftovers(): Promise<number> {
    // This worker's, and any container on one of its slot directories (made under another worker id).
    const slots = new Set(existsSync(this.opts.slotsDir) ? readdirSync(this.opts.slotsDir) : []);
    const bySlot = (await this.engine.listByLabel(LABEL_SLOT)).filter((c) => slots.has(c.labels[LABEL_SLOT] ?? ''));
    const mine = await this.engine.listByLabel(LABEL_WORKER, this.opts.workerId);
    const leftovers = [...new Map([...mine, ...bySlot].map((c) => [c.id, c])).values()];
    await Promise.all(leftovers.map((c) => this.engine.remove(c.id)));
    if (leftovers.length) this.opts.log?.(`removed ${leftovers.length} container(s) left by an earlier run of this worker`);
    // Slot directories of warm containers; those holding a job's worktree are the worker's sweep to judge.
    for (const slot of existsSync(this.opts.slotsDir) ? readdirSync(this.opts.slotsDir) : []) {
      const dir = join(this.opts.slotsDir, slot);
      if (!readdirSync(dir).some((entry) => !entry.startsWith('.'))) rmSync(dir, { recursive: true, force: true });
    }
    return leftovers.length;
  }

  private fill(image: string): Promise<void> {
    const running = this.filling.get(image);
    if (running) return running;
    // Started on the next tick, so the map holds this fill before it can finish and remove itself.
    const work = Promise.resolve()
      .then(async () => {
        while (!this.closed && (this.idle.get(image)?.length ?? 0) < this.opts.config.poolSize) {
          const slot = await this.makeSlot(image, {});
          if (this.closed) {
            await this.engine.remove(slot.container);
            break;
          }
          this.idle.set(image, [...(this.idle.get(image) ?? []), slot]);
          this.idleChanged(image);
        }
      })
      .catch((err: Error) => this.opts.log?.(`could not warm a container of ${image}: ${err.message}`))
      .finally(() => this.filling.delete(image));
    this.filling.set(image, work);
    return work;
  }

  private async makeSlot(image: string, labels: Record<string, string>, existingDir?: string): Promise<Slot> {
    const id = randomBytes(6).toString('hex');
    const dir = existingDir ?? join(this.opts.slotsDir, id);
    makeSlotDir(dir);
    const c = this.opts.config;
    const container = await this.engine.startContainer({
      image,
      name: `drover-${this.opts.workerId}-${id}`.replace(/[^a-zA-Z0-9_.-]/g, '-'),
      labels: { [LABEL_WORKER]: this.opts.workerId, [LABEL_SLOT]: id, ...labels },
      mount: dir,
      network: c.network,
      memoryBytes: bytes(c.memory),
      nanoCpus: Math.round(c.cpus * 1e9),
      pidsLimit: c.pids,
    });
    for (const command of c.setup) {
      const code = await this.engine.run(container, ['bash', '-lc', command], AGENT_USER);
      if (code !== 0) {
        await this.engine.remove(container);
        throw new AppError('ConfigInvalid', `docker.setup command failed (exit ${code}): ${command}`);
      }
    }
    return { id, dir, container, image, oom: { oomKills: 0 } };
  }
}

/**
 * The slot directory belongs to the worker and only its `.home` and the worktree made in it to the
 * container's user: the agent can change what is inside them but cannot swap them, or anything the worker
 * writes beside them (the run files), for a link to a host path.
 */
function makeSlotDir(dir: string): void {
  mkdirSync(join(dir, '.home'), { recursive: true });
  if (process.getuid?.() !== 0) return;
  lchownSync(dir, 0, 0);
  chmodSync(dir, 0o755);
  lchownSync(join(dir, '.home'), AGENT_UID, AGENT_UID);
}

/**
 * Hands a tree the worker just made (a fresh checkout, before any of the job's processes ran) to the
 * container's user. Links are changed themselves, never followed (only root can hand files over).
 */
function chownTree(path: string): void {
  if (process.getuid?.() !== 0) return;
  // Children first: a directory becomes the agent's only once nothing below it is left to walk.
  if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry));
  lchownSync(path, AGENT_UID, AGENT_UID);
}

function bytes(size: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) return 0;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}
