/** Renders job-log JSON lines for people: one line per event, marked by kind. */
interface LogEntry {
  ts: string;
  source: string;
  stream?: string;
  type?: string;
  text: string;
  check?: string;
  events?: { type: string; text: string }[];
}

const MARK: Record<string, string> = {
  message: '  ',
  tool_use: '⚙ ',
  file_change: '✎ ',
  command: '▶ ',
  question: '? ',
  usage: 'Σ ',
  error: '! ',
  session: '» ',
};

/** Returns the lines to print for one log line (none for CLI chatter that says nothing to a person). */
export function renderLogLine(line: string): string[] {
  let e: LogEntry;
  try {
    e = JSON.parse(line) as LogEntry;
  } catch {
    return [line];
  }
  const time = typeof e.ts === 'string' ? e.ts.slice(11, 19) : '--:--:--';
  const tag = (['validate', 'setup', 'teardown'].includes(e.source) && e.check ? `${e.source}:${e.check}` : e.source).padEnd(8);
  if (e.source === 'agent' && Array.isArray(e.events)) {
    return e.events.map((ev) => `${time} ${tag} ${MARK[ev.type] ?? '  '}${ev.text}`);
  }
  const marker = e.type === 'question' ? '? ' : e.stream === 'stderr' ? '! ' : '  ';
  return [`${time} ${tag} ${marker}${e.text}`];
}
