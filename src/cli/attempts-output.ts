/** A best-of-N job in `drover status` and `drover result`: its attempts while they run, its candidates after. */
import type { JobReport } from '../client.js';
import type { Candidate, JobResult } from '../shared/schemas.js';

/** The lines to add under renderReport's, or '' for an ordinary job. */
export function renderBestOf(r: JobReport): string {
  const lines: string[] = [];
  if (r.attempts?.length) {
    lines.push('attempts');
    for (const a of r.attempts) {
      lines.push(`  ${a.jobId}  ${a.agent}  ${a.phase}`);
      if (a.pendingQuestion) lines.push(`    question: ${a.pendingQuestion}`, `    answer with: drover answer ${a.jobId} "<text>"`);
    }
  }
  if (r.result?.candidates) lines.push(...renderCandidates(r.result));
  return lines.length ? `\n${lines.join('\n')}` : '';
}

export function renderCandidates(res: JobResult): string[] {
  const candidates = res.candidates ?? [];
  const by = res.selection?.by === 'select' ? 'by the select command' : 'by the rule';
  const head = res.winner === null || res.winner === undefined ? 'candidates (no winner)' : `candidates (winner: ${res.winner}, ${by})`;
  return [
    head,
    ...candidates.map((c, i) => `${i === res.winner ? '*' : ' '} ${i} ${candidateLine(c)}`),
    ...(res.selection?.note ? [`  note: ${res.selection.note}`] : []),
  ];
}

function candidateLine(c: Candidate): string {
  const checks = c.checks.passed + c.checks.failed;
  const critic = c.approved === null ? '' : c.approved ? ', critic approved' : ', critic asked for changes';
  const usage = c.usage ? `, ${c.usage.inputTokens} in / ${c.usage.outputTokens} out tokens` : '';
  const commit = c.commit ? ` ${c.branch} @ ${c.commit.slice(0, 12)}` : '';
  const failure = c.failure ? ` (${c.failure.type}: ${c.failure.message.split('\n')[0]})` : '';
  return `${c.jobId} ${c.agent}${c.model ? `/${c.model}` : ''} ${c.status}: checks ${c.checks.passed}/${checks} passed${critic}, diff ${c.diff} lines in ${c.files} file(s)${usage}${commit}${failure}`;
}
