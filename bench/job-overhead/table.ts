/** The human-readable tables on stdout: every arm, Drover's overhead over git, phase medians. */
import type { ScenarioResult } from './measure.js';
import { overheadRows } from './report.js';
import type { RepoInfo } from './repos.js';

/** A Markdown table with its columns padded; `right(i)` says which columns are right-aligned. */
function markdownTable(header: string[], rows: string[][], right: (column: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const fmt = (row: string[]) => `| ${row.map((c, i) => (right(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right(i) ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [fmt(header), rule, ...rows.map(fmt)].join('\n');
}

function printArms(results: ScenarioResult[], repos: RepoInfo[]): void {
  const header = ['repo', 'scenario', 'conc', 'n', 'p50 ms', 'p95 ms', 'max ms', 'jobs/s', 'err'];
  const rows = results.map((r) => [
    `${r.repo} (${repos.find((x) => x.kind === r.repo)?.files ?? '?'} files)`,
    r.scenario,
    String(r.concurrency),
    String(r.n),
    r.p50.toFixed(0),
    r.p95.toFixed(0),
    r.max.toFixed(0),
    r.concurrency > 1 ? r.perSecond.toFixed(2) : '',
    r.errors.length ? String(r.errors.length) : '',
  ]);
  process.stdout.write(`\n${markdownTable(header, rows, (i) => i >= 2)}\n`);
}

function printOverhead(results: ScenarioResult[]): void {
  const over = overheadRows(results);
  if (over.length === 0) return;
  process.stdout.write('\nDrover/Temporal overhead over raw git (p50):\n\n');
  const header = ['repo', 'mode', 'conc', 'drover p50', 'git p50', 'overhead ms', 'ratio'];
  const rows = over.map((o) => [
    o.repo,
    o.mode,
    String(o.concurrency),
    o.droverP50.toFixed(0),
    o.gitP50.toFixed(0),
    o.overheadP50Ms.toFixed(0),
    `${o.ratio.toFixed(2)}x`,
  ]);
  process.stdout.write(`${markdownTable(header, rows, (i) => i >= 2)}\n`);
}

function printPhaseMedians(results: ScenarioResult[]): void {
  const phased = results.filter((r) => r.phasesP50Ms);
  if (phased.length === 0) return;
  process.stdout.write('\nPhase medians, ms (Drover: workflow time from JobResult.durationsMs; git baseline: wall time):\n\n');
  for (const r of phased) {
    const parts = Object.entries(r.phasesP50Ms ?? {})
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}=${v.toFixed(0)}`);
    const loop =
      r.kind === 'drover' ? `   (event loop p99 ${r.eventLoopDelayMs.p99.toFixed(0)} ms, max ${r.eventLoopDelayMs.max.toFixed(0)} ms)` : '';
    process.stdout.write(`  ${r.repo.padEnd(5)} ${r.scenario.padEnd(25)} c=${r.concurrency}  ${parts.join('  ')}${loop}\n`);
  }
}

export function printTables(results: ScenarioResult[], repos: RepoInfo[]): void {
  printArms(results, repos);
  printOverhead(results);
  printPhaseMedians(results);
  process.stdout.write('\n');
}
