import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { configFrom } from '../context.js';
import { followJob } from '../follow.js';
import { note, renderReport, say } from '../output.js';
import { exitCodeForReport } from './result.js';

const GREET_BUGGY = "export function greet(name) {\n  return 'Hello ' + name;\n}\n";
const TEST =
  "import assert from 'node:assert/strict';\nimport { greet } from './greet.js';\nassert.equal(greet('world'), 'Hello, world!');\nconsole.log('ok');\n";
const AGENT = `#!/usr/bin/env bash
# A stand-in for a coding agent: it reads the prompt and edits the code.
echo "read the prompt: $(head -n 1 "$DROVER_PROMPT_FILE")"
cat > greet.js <<'JS'
export function greet(name) {
  return \`Hello, \${name}!\`;
}
JS
echo "rewrote greet.js"
`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("Drover's main job end to end on the embedded default: dev server + UI, worker, a sample repo and job")
    .option('--exit', 'exit when the job ends (default when stdout is not a terminal)')
    .action(async (flags: { exit?: boolean }, cmd: Command) => {
      const [{ DroverClient }, { startEmbedded, untilSignal }, config] = await Promise.all([
        import('../../client.js'),
        import('./serve.js'),
        configFrom(cmd),
      ]);
      const env = await startEmbedded(config);
      let code = 1;
      try {
        const dir = join(env.config.dataDir, 'demo', new Date().toISOString().replace(/[:.]/g, '-'));
        const repo = makeDemoRepo(join(dir, 'repo'));
        const agent = join(dir, 'agent.sh');
        writeFileSync(agent, AGENT, { mode: 0o755 });
        const client = await DroverClient.connect(env.config);
        try {
          const { jobId, uiUrl } = await client.submit({
            repo,
            prompt: "Make greet(name) return 'Hello, <name>!' so that test.js passes.",
            agent: { kind: 'command', argv: ['bash', agent] },
            validate: [{ name: 'test', command: 'node test.js' }],
          });
          note(`submitted ${jobId}${uiUrl ? `\n  ui: ${uiUrl}` : ''}`);
          const report = await followJob(client, jobId);
          say(renderReport(report));
          if (report.result?.commit)
            say(`\nThe commit is on branch ${report.result.branch} of ${repo}:\n  git -C ${repo} log --stat ${report.result.branch} -1`);
          code = exitCodeForReport(report);
        } finally {
          await client.close();
        }
        if (!(flags.exit ?? !process.stdout.isTTY)) {
          say(`\nTemporal UI: ${env.config.ui.url ?? '(headless)'}. Press Ctrl-C to stop.`);
          await untilSignal();
        }
      } finally {
        await env.stop();
      }
      process.exitCode = code;
    });
}

function makeDemoRepo(repo: string): string {
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'package.json'), '{ "name": "drover-demo", "type": "module" }\n');
  writeFileSync(join(repo, 'greet.js'), GREET_BUGGY);
  writeFileSync(join(repo, 'test.js'), TEST);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Drover demo', '-c', 'user.email=demo@localhost', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'demo: greet() is missing its comma');
  return repo;
}
