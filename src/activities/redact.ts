/** Variables whose values must never reach workflow history (results, failures, heartbeats). */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)/i;
const MIN_SECRET_LENGTH = 6;

export type Redact = (text: string) => string;

/**
 * Builds a function that replaces the worker's secret values in a string with [redacted:NAME]. Applied to
 * everything an activity returns or throws, because agents and checks run with the worker's environment and
 * may print it.
 */
export function createRedactor(env: Record<string, string>): Redact {
  const secrets = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b[1].length - a[1].length);
  if (secrets.length === 0) return (text) => text;
  return (text) => secrets.reduce((out, [name, value]) => out.split(value).join(`[redacted:${name}]`), text);
}

/** Redacts every string inside a JSON-plain value. */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}
