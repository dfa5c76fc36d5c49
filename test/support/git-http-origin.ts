/**
 * An origin on another "host": bare repositories served by `git http-backend` over real HTTP, behind Basic
 * auth, so a worker reaches it the way it reaches a private forge (a credential in its environment, none in
 * the URL or the job).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './harness.js';

/** A CGI run that outlives this is a hung test, not a slow one. */
const CGI_TIMEOUT_MS = 60_000;
const REALM = 'drover-test';

export interface OriginRequest {
  method: string;
  /** Path and query, e.g. `/origin.git/info/refs?service=git-upload-pack`. */
  path: string;
  status: number;
  /** The user that authenticated, or undefined for a request refused with 401. */
  user: string | undefined;
}

export interface GitHttpOrigin {
  /** The directory holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** `http://127.0.0.1:<port>/<name>.git`: never with credentials. */
  url(repoName: string): string;
  /** Clones a work tree into `<root>/<name>.git` with pushes over HTTP enabled; returns the bare repo's path. */
  addBareRepo(name: string, fromWorkTree: string): string;
  /** How many requests reached the server, refused ones included. */
  requests(): number;
  log(): readonly OriginRequest[];
  /**
   * Variables for a worker (or CLI) process: GIT_ASKPASS and the credentials it answers with. `override`
   * gives other answers than the server's (a wrong password).
   */
  askpassEnv(override?: { user?: string; password?: string }): Record<string, string>;
  stop(): Promise<void>;
}

export async function startGitHttpOrigin(opts: { user: string; password: string }): Promise<GitHttpOrigin> {
  const root = tempDir('drover-http-origin-');
  const askpass = writeAskpass();
  const log: OriginRequest[] = [];
  const children = new Set<ReturnType<typeof spawn>>();
  const server = createServer((req, res) => {
    const user = authenticated(req, opts);
    if (user === undefined) {
      log.push({ method: req.method ?? '', path: req.url ?? '', status: 401, user });
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': `Basic realm="${REALM}"`, 'Content-Type': 'text/plain' }).end('authentication required\n');
      return;
    }
    const entry: OriginRequest = { method: req.method ?? '', path: req.url ?? '', status: 0, user };
    log.push(entry);
    runBackend(root, user, req, res, children, (status) => (entry.status = status));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const bareName = (name: string) => `${name.replace(/\.git$/, '')}.git`;
  return {
    root,
    url: (name) => `http://127.0.0.1:${port}/${bareName(name)}`,
    addBareRepo(name, fromWorkTree) {
      const bare = join(root, bareName(name));
      execFileSync('git', ['clone', '--quiet', '--bare', fromWorkTree, bare], { env: backendEnv(root, opts.user) });
      execFileSync('git', ['-C', bare, 'config', 'http.receivepack', 'true']);
      return bare;
    },
    requests: () => log.length,
    log: () => log,
    askpassEnv: (override = {}) => ({
      GIT_ASKPASS: askpass,
      DROVER_TEST_GIT_USER: override.user ?? opts.user,
      DROVER_TEST_GIT_PASSWORD: override.password ?? opts.password,
    }),
    stop: () => stopServer(server, children),
  };
}

/** The user when the request carries this origin's Basic credentials. */
function authenticated(req: IncomingMessage, opts: { user: string; password: string }): string | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  // Both compared, so a wrong user and a wrong password take the same time.
  const userOk = same(decoded.slice(0, colon), opts.user);
  const passwordOk = same(decoded.slice(colon + 1), opts.password);
  return userOk && passwordOk ? opts.user : undefined;
}

/** Answers the prompts git gives GIT_ASKPASS from the environment, so the secret never lands on disk. */
function writeAskpass(): string {
  const path = join(tempDir('drover-askpass-'), `askpass-${randomBytes(3).toString('hex')}.sh`);
  const script = [
    '#!/bin/sh',
    'case "$1" in',
    '  *Username*) printf \'%s\\n\' "$DROVER_TEST_GIT_USER" ;;',
    '  *Password*) printf \'%s\\n\' "$DROVER_TEST_GIT_PASSWORD" ;;',
    '  *) exit 1 ;;',
    'esac',
    '',
  ].join('\n');
  writeFileSync(path, script, { mode: 0o755 });
  return path;
}

/** Git for the backend alone: none of the test process's GIT_* settings, no user or system config. */
function backendEnv(root: string, user: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REMOTE_USER: user,
  };
}

function cgiEnv(root: string, user: string, req: IncomingMessage): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: Record<string, string> = {
    ...backendEnv(root, user),
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    AUTH_TYPE: 'Basic',
  };
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: header('content-type'),
    // Absent for a chunked body (git's large requests): http-backend then reads to the end of its stdin.
    CONTENT_LENGTH: header('content-length'),
    // http-backend inflates a gzip body itself when told.
    HTTP_CONTENT_ENCODING: header('content-encoding'),
    // Protocol v2 is negotiated through this header.
    HTTP_GIT_PROTOCOL: header('git-protocol'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs http-backend as CGI for one request: the body piped in, its headers parsed, its body streamed back. */
function runBackend(
  root: string,
  user: string,
  req: IncomingMessage,
  res: ServerResponse,
  children: Set<ReturnType<typeof spawn>>,
  setStatus: (status: number) => void,
): void {
  const child = spawn('git', ['http-backend'], { env: cgiEnv(root, user, req), stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), CGI_TIMEOUT_MS);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => undefined);
  req.pipe(child.stdin!);
  // A client that hangs up leaves nobody to read what the backend writes.
  res.on('close', () => child.exitCode === null && child.kill('SIGKILL'));
  readCgiHead(child.stdout!, (status, headers, rest) => {
    setStatus(status);
    res.writeHead(status, headers);
    if (rest.length > 0) res.write(rest);
    child.stdout!.pipe(res);
  });
  child.on('error', (err) => (stderr += String(err)));
  child.on('close', (code) => {
    clearTimeout(timer);
    children.delete(child);
    if (!res.headersSent) {
      setStatus(502);
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`git http-backend exited with ${code}: ${stderr}\n`);
    } else if (!res.writableEnded) res.end();
  });
}

/** Collects stdout up to the blank line that ends the CGI headers, then hands over the status, headers and what followed. */
function readCgiHead(out: NodeJS.ReadableStream, onHead: (status: number, headers: Record<string, string>, rest: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const crlf = buffered.indexOf('\r\n\r\n');
    const lf = buffered.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? { at: crlf, len: 4 } : lf >= 0 ? { at: lf, len: 2 } : undefined;
    if (!end) return;
    out.removeListener('data', onData);
    out.pause();
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of buffered.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    onHead(status, headers, buffered.subarray(end.at + end.len));
  };
  out.on('data', onData);
}

async function stopServer(server: Server, children: Set<ReturnType<typeof spawn>>): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
