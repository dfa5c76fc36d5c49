import { spawn } from 'node:child_process';

/** Runs `go <args>`, counting compiled packages for a progress line every 15 s. */
export async function runWithProgress(
  args: string[],
  env: NodeJS.ProcessEnv,
  tick: (packages: number) => void,
): Promise<{ code: number | null; lastLine: string }> {
  let packages = 0;
  let lastLine = '';
  const child = spawn('go', args, { env: { ...env, GOFLAGS: env.GOFLAGS ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (!line.startsWith('go: downloading')) packages++;
      lastLine = line;
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const ticker = setInterval(() => tick(packages), 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(ticker);
  return { code, lastLine };
}
