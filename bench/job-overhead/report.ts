/** The JSON report (bench/results/*.json) and its headline, the figures issue 10 names. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { BenchRun } from './context.js';
import type { ScenarioResult } from './measure.js';
import { AGENT_COMMAND, type Mode, type RepoKind } from './options.js';
import { filesystemOf, gitSync, log, REPO_ROOT, round1 } from './shared.js';

export interface OverheadRow {
  repo: RepoKind;
  mode: Mode;
  concurrency: number;
  droverP50: number;
  gitP50: number;
  overheadP50Ms: number;
  ratio: number;
}

/** Each Drover job arm beside the git baseline of the same repository, mode and concurrency. */
export function overheadRows(results: ScenarioResult[]): OverheadRow[] {
  const rows: OverheadRow[] = [];
  for (const d of results.filter((r) => r.kind === 'drover')) {
    const g = results.find((r) => r.kind === 'git' && r.repo === d.repo && r.mode === d.mode && r.concurrency === d.concurrency);
    if (!g || !d.mode) continue;
    rows.push({
      repo: d.repo,
      mode: d.mode,
      concurrency: d.concurrency,
      droverP50: d.p50,
      gitP50: g.p50,
      overheadP50Ms: round1(d.p50 - g.p50),
      ratio: Math.round((d.p50 / g.p50) * 100) / 100,
    });
  }
  return rows;
}

/** The figures issue 10 names, each next to its baseline (ms unless the name says otherwise; null: not run). */
function headline({ results, extras, opts }: BenchRun) {
  const p50 = (repo: RepoKind, scenario: string, concurrency = 1) =>
    results.find((r) => r.repo === repo && r.scenario === scenario && r.concurrency === concurrency)?.p50 ?? null;
  const largeJobs = results.find((r) => r.repo === 'large' && r.scenario === 'drover job (noop)' && r.concurrency === 1);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);
  const ex = extras as {
    help?: { p50: number };
    status?: { p50: number };
    workerRss?: { peakMb: number };
    history?: { events: number; maxPayloadBytes: number };
  };
  return {
    noopP50Ms: num(p50('small', 'drover job (noop)')),
    noopGitP50Ms: num(p50('small', 'git baseline job (noop)')),
    commitP50Ms: num(p50('small', 'drover job (commit)')),
    commitGitP50Ms: num(p50('small', 'git baseline job (commit)')),
    c8NoopP50Ms: num(p50('small', 'drover job (noop)', opts.concurrency)),
    c8NoopGitP50Ms: num(p50('small', 'git baseline job (noop)', opts.concurrency)),
    prepareLargeMs: num(largeJobs?.phasesP50Ms?.preparing),
    worktreeAddLargeMs: num(p50('large', 'git: worktree add')),
    cloneLargeMs: num(p50('large', 'git: fresh clone (local path)')),
    helpMs: num(ex.help?.p50),
    statusMs: num(ex.status?.p50),
    workerRssMb32: num(ex.workerRss?.peakMb),
    historyEvents: num(ex.history?.events),
    maxPayloadBytes: num(ex.history?.maxPayloadBytes),
  };
}

function droverCommit(): string {
  try {
    const dirty = gitSync(REPO_ROOT, 'status', '--porcelain', '--', 'src') !== '';
    return `${gitSync(REPO_ROOT, 'rev-parse', '--short', 'HEAD')}${dirty ? ' (src/ has uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

function hostInfo(bench: BenchRun, loadStart: number[], loadEnd: number[]) {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    git: gitSync('/', '--version'),
    temporalCli: execFileSync(bench.temporalBin, ['--version'], { encoding: 'utf8' }).trim(),
    tmpdir: bench.opts.tmpdir,
    tmpdirFilesystem: filesystemOf(bench.opts.tmpdir),
    loadavgStart: loadStart.map((l) => Math.round(l * 100) / 100),
    loadavgEnd: loadEnd.map((l) => Math.round(l * 100) / 100),
  };
}

export function buildReport(bench: BenchRun, loadStart: number[], loadEnd: number[]) {
  return {
    date: new Date().toISOString(),
    host: hostInfo(bench, loadStart, loadEnd),
    options: { ...bench.opts, out: undefined, agentCommands: AGENT_COMMAND, worker: bench.config.worker },
    droverCommit: droverCommit(),
    repos: bench.repos.map((r) => ({ kind: r.kind, files: r.files, generateMs: Math.round(r.generateMs) })),
    overhead: overheadRows(bench.results),
    headline: headline(bench),
    extras: bench.extras,
    results: bench.results,
  };
}

export function writeReport(file: string, report: ReturnType<typeof buildReport>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${file}`);
}
