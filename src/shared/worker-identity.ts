/**
 * How a Drover worker names itself to Temporal. `drover workers` reads these back from the task queues' pollers,
 * so what an operator needs to know of a worker (its host, its runtime) travels with every poll: no registry.
 * The identity shows in histories too (who ran which task), so it carries nothing private.
 */

export interface WorkerTraits {
  host: string;
  pid: number;
  /** 'host', or 'docker:<warm pool size>' when the worker also offers the docker runtime. */
  runtime: string;
}

/** `<workerId>/<role>`, and for the host queue's poller ` host=<h> pid=<p> runtime=<r>` after it. */
export function workerIdentity(workerId: string, role: string, traits?: WorkerTraits): string {
  const base = `${workerId}/${role}`;
  return traits ? `${base} host=${clean(traits.host)} pid=${traits.pid} runtime=${clean(traits.runtime)}` : base;
}

export interface ParsedIdentity {
  workerId: string;
  role: string;
  traits: Partial<Record<'host' | 'pid' | 'runtime', string>>;
}

/** Undefined for pollers that are not Drover's (the SDK's default `pid@host`, another program). */
export function parseWorkerIdentity(identity: string): ParsedIdentity | undefined {
  const m = /^([A-Za-z0-9._-]{1,100})\/([A-Za-z0-9._-]+)(?: (.*))?$/.exec(identity);
  if (!m) return undefined;
  const traits: ParsedIdentity['traits'] = {};
  for (const pair of (m[3] ?? '').split(' ')) {
    const [key, value] = pair.split('=');
    if ((key === 'host' || key === 'pid' || key === 'runtime') && value) traits[key] = value;
  }
  return { workerId: m[1]!, role: m[2]!, traits };
}

const clean = (text: string) => text.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100);
