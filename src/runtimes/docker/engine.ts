/**
 * The Docker engine, as Drover uses it. The only module that imports dockerode: everything container-shaped
 * goes through here.
 */
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { AppError } from '../../shared/errors.js';

export const LABEL_WORKER = 'drover.worker';
export const LABEL_JOB = 'drover.job';
export const LABEL_SLOT = 'drover.slot';

export interface ContainerPlan {
  image: string;
  name: string;
  labels: Record<string, string>;
  /** Host directory mounted read-write at the same path inside. */
  mount: string;
  network: string;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
}

export interface ExecPlan {
  container: string;
  argv: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  user: string;
  stdin?: string;
  keepStdinOpen?: boolean;
}

export interface RunningExec {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  write(text: string): void;
  closeStdin(): void;
  /** Resolves with the exit code once the process has ended and its output is drained. */
  done: Promise<number | null>;
}

export interface Engine {
  ping(): Promise<void>;
  hasImage(image: string): Promise<boolean>;
  /** Creates and starts a container whose main process only waits; work arrives by exec. */
  startContainer(plan: ContainerPlan): Promise<string>;
  exec(plan: ExecPlan): Promise<RunningExec>;
  /** Runs a short command and returns its exit code (for signals and probes). */
  run(container: string, argv: string[], user: string): Promise<number | null>;
  isRunning(container: string): Promise<boolean>;
  /** Freezes every process in the container (cgroup freezer) until unpause. */
  pause(container: string): Promise<void>;
  unpause(container: string): Promise<void>;
  /** How many processes the kernel killed at the container's memory limit (exec'd ones included). */
  oomKills(container: string): Promise<number>;
  remove(container: string): Promise<void>;
  /** Containers with the label (any value when value is undefined). */
  listByLabel(label: string, value?: string): Promise<{ id: string; labels: Record<string, string> }[]>;
  importImage(tar: NodeJS.ReadableStream, tag: string, changes: string[]): Promise<void>;
}

export function connectEngine(socketPath = process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') || '/var/run/docker.sock'): Engine {
  const docker = new Docker({ socketPath });
  const unavailable = (err: unknown) =>
    new AppError(
      'DockerUnavailable',
      `no Docker engine answers at ${socketPath} (${(err as Error).message}); start dockerd or use runtime host`,
    );

  return {
    async ping() {
      await docker.ping().catch((err) => {
        throw unavailable(err);
      });
    },
    hasImage: (image) => hasImage(docker, image, unavailable),
    startContainer: (plan) => startContainer(docker, plan),
    exec: (plan) => startExec(docker, plan),
    // Through `this`, not dockerode: an engine whose exec is wrapped runs its probes through the wrapper too.
    run(container, argv, user) {
      return runToExit(this, container, argv, user);
    },
    isRunning: (container) => isRunning(docker, container),
    async pause(container) {
      await docker.getContainer(container).pause();
    },
    async unpause(container) {
      await docker.getContainer(container).unpause();
    },
    oomKills(container) {
      return countOomKills(this, container);
    },
    remove: (container) => removeContainer(docker, container),
    listByLabel: (label, value) => listByLabel(docker, label, value),
    importImage: (tar, tag, changes) => importImage(docker, tar, tag, changes),
  };
}

const statusCode = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

async function hasImage(docker: Docker, image: string, unavailable: (err: unknown) => AppError): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    throw unavailable(err);
  }
}

function containerOptions(plan: ContainerPlan): Docker.ContainerCreateOptions {
  return {
    name: plan.name,
    Image: plan.image,
    // The main process only keeps the container alive; it runs as root so that killing the agent user's
    // processes never takes it down.
    Entrypoint: ['sleep', 'infinity'],
    Cmd: [],
    User: '0',
    Labels: plan.labels,
    WorkingDir: plan.mount,
    HostConfig: {
      Init: true,
      Binds: [`${plan.mount}:${plan.mount}:rw`],
      NetworkMode: plan.network,
      Memory: plan.memoryBytes,
      MemorySwap: plan.memoryBytes,
      NanoCpus: plan.nanoCpus,
      PidsLimit: plan.pidsLimit,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      AutoRemove: false,
    },
  };
}

async function startContainer(docker: Docker, plan: ContainerPlan): Promise<string> {
  const container = await docker.createContainer(containerOptions(plan)).catch((err) => {
    if (statusCode(err) === 404) {
      throw new AppError('DockerImageMissing', `image ${plan.image} is not on this Docker engine; build it with \`drover image build\``);
    }
    throw err;
  });
  await container.start();
  return container.id;
}

async function startExec(docker: Docker, plan: ExecPlan): Promise<RunningExec> {
  const exec = await docker.getContainer(plan.container).exec({
    Cmd: [...plan.argv],
    WorkingDir: plan.cwd,
    Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
    User: plan.user,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  if (!plan.keepStdinOpen) stream.end(plan.stdin ?? '');
  else if (plan.stdin) stream.write(plan.stdin);
  return {
    stdout,
    stderr,
    write: (text) => {
      if (!stream.writableEnded) stream.write(text);
    },
    closeStdin: () => {
      // Half-close: the process sees EOF while its output keeps flowing.
      const socket = stream as unknown as { end: () => void; writableEnded?: boolean };
      if (!socket.writableEnded) socket.end();
    },
    done: exitCodeWhenEnded(exec, stream, [stdout, stderr]),
  };
}

/** Once the exec's stream ends, closes or fails: ends the demuxed outputs and asks the engine for the exit code. */
function exitCodeWhenEnded(exec: Docker.Exec, stream: NodeJS.EventEmitter, outputs: PassThrough[]): Promise<number | null> {
  return new Promise<number | null>((resolve) => {
    const finish = async () => {
      for (const output of outputs) output.end();
      const info = await exec.inspect().catch(() => undefined);
      resolve(info?.ExitCode ?? null);
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}

async function runToExit(engine: Pick<Engine, 'exec'>, container: string, argv: string[], user: string): Promise<number | null> {
  const e = await engine.exec({ container, argv, cwd: '/', env: {}, user });
  e.stdout.resume();
  e.stderr.resume();
  return e.done;
}

async function countOomKills(engine: Pick<Engine, 'exec'>, container: string): Promise<number> {
  // State.OOMKilled only tells of the main process; the cgroup counts every kill (v2 memory.events,
  // v1 memory.oom_control), and the container sees its own cgroup.
  const e = await engine.exec({
    container,
    argv: ['sh', '-c', 'cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null'],
    cwd: '/',
    env: {},
    user: '0',
  });
  let out = '';
  e.stdout.on('data', (d: Buffer) => (out += d.toString()));
  e.stderr.resume();
  await e.done;
  return Number(/^oom_kill (\d+)$/m.exec(out)?.[1] ?? 0);
}

async function isRunning(docker: Docker, container: string): Promise<boolean> {
  const info = await docker
    .getContainer(container)
    .inspect()
    .catch(() => undefined);
  return info?.State?.Running === true;
}

async function removeContainer(docker: Docker, container: string): Promise<void> {
  await docker
    .getContainer(container)
    .remove({ force: true, v: true })
    .catch((err) => {
      if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err;
    });
}

async function listByLabel(docker: Docker, label: string, value?: string): Promise<{ id: string; labels: Record<string, string> }[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [value === undefined ? label : `${label}=${value}`] } });
  return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {} }));
}

async function importImage(docker: Docker, tar: NodeJS.ReadableStream, tag: string, changes: string[]): Promise<void> {
  const [repo, version] = tag.split(':');
  const stream = await docker.importImage(tar, { repo, tag: version ?? 'latest', changes } as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
}
