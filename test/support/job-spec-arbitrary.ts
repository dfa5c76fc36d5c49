/**
 * Job specs for property tests: a valid spec, then (about half the time) one or two fields replaced by
 * something wrong: a value that breaks a rule, a value of the wrong type, or an unknown key. Now and then
 * plain junk. Both the accepting and the rejecting paths of the submit edge get exercised.
 */
import fc from 'fast-check';

const junk = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const duration = fc.constantFrom('5m', '90s', '24h', '1500ms', '2d');
const badDuration = fc.oneof(fc.constantFrom('0s', '5 minutes', '-1m', '', '1y'), fc.string({ maxLength: 6 }));
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/);

export function repoArb(localRepo: string) {
  return fc.constantFrom(
    localRepo,
    `file://${localRepo}`,
    'https://github.com/acme/app.git',
    'git@github.com:acme/app.git',
    'ssh://git@example.com/acme/app.git',
    'git://example.com/app.git',
  );
}

const badRepo = fc.oneof(
  fc.constantFrom(
    '/nonexistent/repo',
    'https://ghp_0123456789abcdef@github.com/acme/app.git',
    'https://user:secret@example.com/x.git',
    'https://example.com/x.git?access_token=abc',
    'http://example.com/app.git',
    'ftp://example.com/app.git',
    'ext::sh -c touch% /tmp/pwned',
    'fd::17',
    '-uhelp',
    '',
    '   ',
    'relative/path/nowhere',
    'line\nbreak',
  ),
  fc.webUrl(),
  fc.string({ maxLength: 40 }),
);

const agent = fc.oneof(
  fc.record({ kind: fc.constant('command'), command: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('command'), argv: fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('command'),
    command: fc.constant('true'),
    env: fc.dictionary(envName, fc.string({ maxLength: 10 }), { maxKeys: 2 }),
  }),
  fc.record(
    {
      kind: fc.constantFrom('claude-code', 'codex', 'opencode', 'mini-swe-agent', 'openhands'),
      model: fc.constantFrom('claude-sonnet-4-5', 'openai/gpt-5', 'm@1'),
      maxTurns: fc.integer({ min: 1, max: 1000 }),
    },
    { requiredKeys: ['kind'] },
  ),
);
const badAgent = fc.oneof(
  fc.record({ kind: fc.constant('command') }),
  fc.record({ kind: fc.constant('command'), command: fc.constant('x'), argv: fc.constant(['y']) }),
  fc.record({
    kind: fc.constantFrom('claude-code', 'codex'),
    model: fc.string({ maxLength: 20 }).filter((m) => !/^[A-Za-z0-9._:/@-]{1,200}$/.test(m)),
  }),
  fc.record({
    kind: fc.constantFrom('claude-code', 'codex'),
    maxTurns: fc.oneof(fc.integer({ min: -5, max: 0 }), fc.integer({ min: 1001, max: 5000 })),
  }),
  fc.record({ kind: fc.constant('claude-code'), permissionMode: fc.constant('bypassPermissions') }),
  fc.record({ kind: fc.string({ maxLength: 10 }) }),
  junk,
);

const runtime = fc.oneof(
  fc.constant({ kind: 'host' }),
  fc.record(
    {
      kind: fc.constant('docker'),
      image: fc.constantFrom('drover-agent:latest', 'registry.example.com/team/agent:1.2'),
      env: fc.array(fc.constantFrom('ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'), { maxLength: 2 }),
    },
    { requiredKeys: ['kind'] },
  ),
);
const badRuntime = fc.oneof(
  fc.record({
    kind: fc.constant('docker'),
    env: fc.array(fc.constantFrom('AWS_SECRET_ACCESS_KEY', 'PATH', '1BAD', 'A-B'), { minLength: 1, maxLength: 2 }),
  }),
  fc.record({ kind: fc.constant('docker'), image: fc.constantFrom('UPPER:case', 'a b', '../x', '') }),
  fc.record({ kind: fc.constantFrom('vm', 'podman') }),
  junk,
);

const step = fc.oneof(
  fc.record(
    { name: fc.string({ minLength: 1, maxLength: 10 }), command: fc.string({ minLength: 1, maxLength: 20 }), timeout: duration },
    { requiredKeys: ['name', 'command'] },
  ),
);
// A bare string is a step only on the command line (job files and flags turn it into one); the API takes objects.
const badStep = fc.oneof(
  fc.record({ name: fc.constant('t') }),
  fc.string({ maxLength: 10 }),
  fc.record({ name: fc.constant('t'), command: fc.constant('x'), timeout: badDuration }),
  fc.constant(''),
  junk,
);

function validSpec(localRepo: string) {
  return fc.record(
    {
      repo: repoArb(localRepo),
      prompt: fc.string({ minLength: 1, maxLength: 60 }).filter((p) => p.trim() !== ''),
      agent,
      id: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
      base: fc.constantFrom('main', 'HEAD', 'v1.0', 'feature/x', 'origin/main', 'deadbeef'),
      runtime,
      validate: fc.array(step, { maxLength: 3 }),
      critic: fc.record({ command: fc.string({ minLength: 1, maxLength: 10 }), timeout: duration }, { requiredKeys: ['command'] }),
      maxRevisions: fc.integer({ min: 0, max: 10 }),
      commitMessage: fc.string({ minLength: 1, maxLength: 20 }),
      maxWorkerRestarts: fc.integer({ min: 0, max: 5 }),
      timeouts: fc.record({ agentIdle: duration, agentHard: duration, humanAnswer: duration }, { requiredKeys: [] }),
    },
    { requiredKeys: ['repo', 'prompt', 'agent'] },
  );
}

/** One way to spoil a spec. */
const spoilers = (): fc.Arbitrary<[string, unknown]>[] => [
  fc.tuple(fc.constant('repo'), badRepo),
  fc.tuple(
    fc.constant('prompt'),
    fc.oneof(
      fc.constantFrom('', '   ', '\n\t'),
      junk.filter((j) => typeof j !== 'string'),
    ),
  ),
  fc.tuple(fc.constant('agent'), badAgent),
  fc.tuple(
    fc.constant('id'),
    fc.oneof(
      fc.constantFrom('../escape', 'a.lock', '-x', 'a..b', 'x.', ''),
      fc.string({ maxLength: 20 }).filter((s) => !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(s)),
    ),
  ),
  fc.tuple(fc.constant('base'), fc.constantFrom('--upload-pack=x', '../x', 'a..b', 'x@{1}', '', 'a b', '.hidden', 'a/', 'x.lock')),
  fc.tuple(fc.constant('runtime'), badRuntime),
  fc.tuple(fc.constant('validate'), fc.oneof(fc.array(badStep, { minLength: 1, maxLength: 2 }), junk)),
  fc.tuple(
    fc.constant('critic'),
    fc.oneof(fc.record({ command: fc.constant('') }), fc.record({ command: fc.constant('x'), timeout: badDuration }), junk),
  ),
  fc.tuple(fc.constant('maxRevisions'), fc.oneof(fc.integer({ min: -5, max: -1 }), fc.integer({ min: 11, max: 99 }), fc.double(), junk)),
  fc.tuple(fc.constant('timeouts'), fc.oneof(fc.record({ agentHard: badDuration }), fc.record({ bogus: fc.constant('1m') }), junk)),
  fc.tuple(fc.constantFrom('repos', 'extra', 'Prompt', 'agents', 'env'), junk),
];

export function jobSpecArb(localRepo: string): fc.Arbitrary<Record<string, unknown>> {
  const spoiled = fc
    .tuple(
      validSpec(localRepo),
      fc.array(fc.oneof(...spoilers()), { minLength: 0, maxLength: 2 }),
      fc.constantFrom(undefined, 'repo', 'prompt', 'agent', undefined, undefined, undefined, undefined, undefined, undefined),
    )
    .map(([spec, spoils, drop]) => {
      const out: Record<string, unknown> = { ...spec };
      for (const [key, value] of spoils) out[key] = value;
      if (drop) delete out[drop];
      return out;
    });
  return fc.oneof(
    { weight: 19, arbitrary: spoiled },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 4 }) },
  );
}
