import type { JobReport } from '../client.js';
import type { JobIntegration, JobResult, SteeringMessage } from '../shared/schemas.js';
import { spendText } from '../shared/spend.js';

export const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
export const say = (text: string): void => void process.stdout.write(`${text}\n`);
export const note = (text: string): void => void process.stderr.write(`${text}\n`);

/** Aligned "key  value" lines, skipping empty values. */
export function fields(rows: [string, string | number | null | undefined][]): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function renderReport(r: JobReport): string {
  const s = r.status;
  const lines = fields([
    ['job', `${r.jobId} (${r.execution.toLowerCase()})`],
    ['phase', r.phase],
    ['question', s?.pendingQuestion ?? r.pendingQuestion],
    ['answer with', (s?.pendingQuestion ?? r.pendingQuestion) ? `drover answer ${r.jobId} "<text>"` : undefined],
    ['attempt', s ? `${s.attempt}, revision ${s.revision}` : undefined],
    ['branch', s?.branch ?? r.result?.branch],
    ['worker', s?.worker],
    ['waiting for', s?.waitingFor ?? undefined],
    ['session', s?.agentSession ?? undefined],
    ['integration', s?.integration ? integrationLine(s.integration) : undefined],
    ['spent', s?.spend ? spendText(s.spend, s.budget) : undefined],
    [
      'activity',
      r.activity ? `${r.activity.type} (attempt ${r.activity.attempt})${r.activity.progress ? `: ${r.activity.progress}` : ''}` : undefined,
    ],
    ['last error', r.activity?.lastFailure],
    ['note', r.note],
    ['failure', r.failure ? `${r.failure.type}: ${r.failure.message}` : undefined],
    ['ui', r.uiUrl],
  ]);
  const messages = r.result ? [] : messageLines(s?.messages);
  const head = messages.length ? `${lines}\n${messages.join('\n')}` : lines;
  return r.result ? `${head}\n${renderResult(r.result)}` : head;
}

export function renderResult(res: JobResult): string {
  const files = res.files.map((f) => `  ${f.path} (+${f.added ?? '?'} -${f.deleted ?? '?'})`);
  if (res.filesTruncated) files.push(`  ... and ${res.filesTruncated} more`);
  const rounds = res.validations.map(
    (round) =>
      `  revision ${round.revision}: ${round.checks.map((c) => `${c.name} ${c.passed ? 'passed' : 'FAILED'}`).join(', ') || 'no checks'}` +
      (round.critic ? `; critic ${round.critic.approve ? 'approved' : 'asked for changes'}` : ''),
  );
  return [
    fields([
      ['status', res.status],
      ['commit', res.commit],
      ['branch', res.branch],
      ['base', res.baseCommit],
      ['revisions', res.revisions],
      ['attempts', res.attempts],
      ['session', res.agentSession ?? undefined],
      [
        'usage',
        res.usage
          ? `${res.usage.turns} turns, ${res.usage.inputTokens} in / ${res.usage.outputTokens} out tokens${res.usage.costUsd === null ? '' : `, $${res.usage.costUsd.toFixed(4)}`}`
          : undefined,
      ],
      ['failure', res.failure ? `${res.failure.type}: ${res.failure.message}` : undefined],
      ['integration', res.integration ? integrationLine(res.integration) : undefined],
      ['spent', res.spend ? spendText(res.spend, res.budget) : undefined],
    ]),
    ...(res.setup?.length
      ? ['setup', ...res.setup.map((c) => `  ${c.name} ${c.passed ? 'passed' : 'FAILED'} (${(c.durationMs / 1000).toFixed(1)}s)`)]
      : []),
    ...(files.length ? ['files', ...files] : []),
    ...(rounds.length ? ['validation', ...rounds] : []),
    ...messageLines(res.messages),
    ...(res.questions.length ? ['questions', ...res.questions.map((q) => `  Q: ${q.question}\n  A: ${q.answer}`)] : []),
  ].join('\n');
}

function messageLines(messages: SteeringMessage[] | undefined): string[] {
  if (!messages?.length) return [];
  const how = { live: 'delivered live', prompt: 'delivered in a prompt' } as const;
  return [
    'messages',
    ...messages.map((m) => `  ${m.at.slice(11, 19)} ${m.delivered ? how[m.delivered] : 'not yet delivered'}: ${m.text.split('\n')[0]}`),
  ];
}

/** "integrated into main as 1a2b3c4d5e6f (sent back once)" and the like. */
export function integrationLine(i: JobIntegration): string {
  const as = i.commit ? ` as ${i.commit.slice(0, 12)}` : '';
  const back = i.sentBack ? ` (sent back ${i.sentBack}x)` : '';
  const why = i.reason && i.status !== 'integrated' ? `: ${i.reason.split('\n')[0]}` : '';
  return `${i.status.replace('_', ' ')} ${i.status === 'queued' ? 'for' : 'into'} ${i.into}${as}${back}${why}`;
}
