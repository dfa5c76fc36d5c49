/**
 * Builds the agent image on a machine without a registry: a Debian rootfs from debootstrap, this Node, the
 * agent CLIs from npm, the OpenHands SDK with Drover's driver, a non-root user, then `docker import`. The tag carries a hash of the recipe, so the
 * image is built once and rebuilt only when the recipe changes. Users with a registry can build
 * docker/agent.Dockerfile instead; both give the same layout.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { Engine } from './engine.js';

export const AGENT_UID = 1000;
export const AGENT_USER = 'agent';
/** Trixie for Python 3.13: the OpenHands SDK needs 3.12 or newer. */
const SUITE = 'trixie';
const MIRROR = process.env.DROVER_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
export interface AgentRecipe {
  debian: string[];
  npm: string[];
  pip: string[];
}
let recipe: AgentRecipe | undefined;
/** The image's packages, shared with docker/agent.Dockerfile; read when an image is named or built, not at import. */
export function agentRecipe(): AgentRecipe {
  recipe ??= JSON.parse(
    readFileSync(fileURLToPath(new URL('../../../docker/agent-packages.json', import.meta.url)), 'utf8'),
  ) as AgentRecipe;
  return recipe;
}
const OPENHANDS_DIR = '/opt/drover-openhands';
const DRIVER_DIR = fileURLToPath(new URL('../../../agents/openhands/', import.meta.url));
const RECIPE_VERSION = 2;

/** Named as the constants were before the list moved to a file, so the hash and the image tag stay the same. */
function recipeForHash() {
  const { debian: PACKAGES, npm: AGENT_CLIS, pip: OPENHANDS_PACKAGES } = agentRecipe();
  return { PACKAGES, AGENT_CLIS, OPENHANDS_PACKAGES };
}

/** The tag of the image this recipe builds. */
export function defaultImageTag(): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, SUITE, ...recipeForHash(), node: process.version }))
    .update(readFileSync(join(DRIVER_DIR, 'drover_openhands.py')))
    .digest('hex')
    .slice(0, 12);
  return `drover-agent:${hash}`;
}

export interface BuildOptions {
  tag?: string;
  force?: boolean;
  progress?: (line: string) => void;
}

export async function buildAgentImage(engine: Engine, opts: BuildOptions = {}): Promise<{ tag: string; built: boolean; seconds: number }> {
  const tag = opts.tag ?? defaultImageTag();
  const say = opts.progress ?? (() => undefined);
  const started = Date.now();
  await engine.ping();
  if (!opts.force && (await engine.hasImage(tag))) return { tag, built: false, seconds: 0 };
  if (process.getuid?.() !== 0)
    throw new AppError('InvalidInput', 'building the image with debootstrap needs root; or build docker/agent.Dockerfile');
  const work = mkdtempSync(join(tmpdir(), 'drover-image-'));
  const rootfs = join(work, 'rootfs');
  try {
    const { debian, npm } = agentRecipe();
    say(`debootstrap ${SUITE} (${debian.join(', ')}) from ${MIRROR} ...`);
    await sh('debootstrap', ['--variant=minbase', `--include=${debian.join(',')}`, SUITE, rootfs, MIRROR], say);
    say(`node ${process.version} ...`);
    copyFileSync(process.execPath, join(rootfs, 'usr/local/bin/node'));
    chmodSync(join(rootfs, 'usr/local/bin/node'), 0o755);
    say(`agent CLIs: ${npm.join(' ')} ...`);
    const prefix = join(rootfs, 'opt/drover-agents');
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"private": true}\n');
    await sh('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefix', prefix, ...npm], say);
    for (const bin of ['claude', 'codex', 'opencode']) {
      symlinkSync(`/opt/drover-agents/node_modules/.bin/${bin}`, join(rootfs, 'usr/local/bin', bin));
    }
    await installOpenHands(rootfs, say);
    appendFileSync(join(rootfs, 'etc/passwd'), `${AGENT_USER}:x:${AGENT_UID}:${AGENT_UID}:Drover agent:/home/${AGENT_USER}:/bin/bash\n`);
    appendFileSync(join(rootfs, 'etc/group'), `${AGENT_USER}:x:${AGENT_UID}:\n`);
    mkdirSync(join(rootfs, 'home', AGENT_USER), { recursive: true });
    await sh('chown', ['-R', `${AGENT_UID}:${AGENT_UID}`, join(rootfs, 'home', AGENT_USER)], say);
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    say(`docker import as ${tag} ...`);
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await engine.importImage(tar.stdout, tag, [
      `USER ${AGENT_USER}`,
      `ENV HOME=/home/${AGENT_USER}`,
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      `WORKDIR /home/${AGENT_USER}`,
      'CMD ["bash"]',
    ]);
    return { tag, built: true, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The OpenHands SDK in a venv of the image's own Python, installed by pip inside the rootfs (its wheels must
 * match that Python). pip there trusts what the build machine trusts: its CA bundle stands in for the image's
 * while pip runs (a TLS-inspecting proxy), and the image's own is put back.
 */
async function installOpenHands(rootfs: string, say: (line: string) => void): Promise<void> {
  const { pip } = agentRecipe();
  say(`OpenHands SDK: ${pip.join(' ')} (a few minutes) ...`);
  const bundle = join(rootfs, 'etc/ssl/certs/ca-certificates.crt');
  const own = readFileSync(bundle);
  const hostBundle = [process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'].find((f) => f && existsSync(f));
  // A clean environment, but the build machine's proxy settings: pip must reach PyPI the way this machine does.
  const proxies = Object.entries(process.env)
    .filter(([k, v]) => v && /^(https?|no|all)_proxy$/i.test(k))
    .map(([k, v]) => `${k}=${v}`);
  if (hostBundle) {
    // Removed first: a file written over is never written through a link.
    rmSync(bundle, { force: true });
    copyFileSync(hostBundle, bundle);
  }
  const inRoot = (...args: string[]) =>
    sh('chroot', [rootfs, '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'HOME=/root', ...proxies, ...args], say);
  try {
    await inRoot('python3', '-m', 'venv', OPENHANDS_DIR);
    await inRoot(`${OPENHANDS_DIR}/bin/pip`, 'install', '-q', '--disable-pip-version-check', '--no-cache-dir', ...pip);
  } finally {
    rmSync(bundle, { force: true });
    writeFileSync(bundle, own);
  }
  copyFileSync(join(DRIVER_DIR, 'drover_openhands.py'), join(rootfs, OPENHANDS_DIR.slice(1), 'drover_openhands.py'));
  writeFileSync(
    join(rootfs, 'usr/local/bin/drover-openhands'),
    `#!/bin/sh\nexec ${OPENHANDS_DIR}/bin/python ${OPENHANDS_DIR}/drover_openhands.py "$@"\n`,
    { mode: 0o755 },
  );
}

/** One step of the build: a slow mirror or PyPI is waited for, a hung one is not (each step took under 4 min here). */
const STEP_TIMEOUT_MS = 30 * 60_000;

function sh(cmd: string, args: string[], say: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    // SIGKILL: debootstrap and pip ignore nothing else reliably while blocked on the network.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: STEP_TIMEOUT_MS, killSignal: 'SIGKILL' });
    let tail = '';
    let last = 0;
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4_000);
      // One line of progress every few seconds, not the whole chatter.
      if (Date.now() - last > 5_000) {
        last = Date.now();
        const line = tail.trim().split('\n').at(-1);
        if (line) say(`  ${line.slice(0, 160)}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new AppError('InvalidInput', `${cmd} is needed to build the image: ${err.message}`)));
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL'
        ? reject(
            new AppError(
              'Unexpected',
              `${cmd} ${args[0]} did not finish within ${STEP_TIMEOUT_MS / 60_000} min; check the network to the Debian mirror (DROVER_DEBIAN_MIRROR), npm and PyPI`,
            ),
          )
        : code === 0
          ? resolve()
          : reject(new AppError('Unexpected', `${cmd} ${args[0]} failed (exit ${code}): ${tail.trim().split('\n').slice(-3).join(' / ')}`)),
    );
  });
}
