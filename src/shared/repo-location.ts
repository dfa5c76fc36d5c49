/**
 * What a repository location is, read the way git reads it: a local path, a URL with a scheme, an scp-like
 * `host:path`, or a remote helper (`ext::...`). Pure, so the client, the worker and the schema agree.
 */

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** git runs `git-remote-<name>` for `<name>::<address>`; `ext::` and `fd::` run arbitrary commands. */
const REMOTE_HELPER = /^([A-Za-z0-9][A-Za-z0-9+.-]*)::/;
const SECRET_QUERY = /[?&](?:[a-z_-]*(?:token|key|secret|password|passwd|auth|sig|signature)[a-z_-]*)=/i;

/** A local path (absolute or relative) or a file:// URL: the worker reads it from its own disk. */
export function isLocalRepo(repo: string): boolean {
  if (/^file:\/\//i.test(repo)) return true;
  if (SCHEME.test(repo) || REMOTE_HELPER.test(repo)) return false;
  // git's rule: a ":" before any "/" makes it scp-like ssh (host:path), anything else is a path.
  const colon = repo.indexOf(':');
  const slash = repo.indexOf('/');
  return colon < 0 || (slash >= 0 && slash < colon);
}

/** The protocol git would use: file, https, http, ssh, git, or another scheme (ftp, ...) or helper name. */
export function repoTransport(repo: string): string {
  if (isLocalRepo(repo)) return 'file';
  const helper = REMOTE_HELPER.exec(repo);
  if (helper) return helper[1]!.toLowerCase();
  const scheme = SCHEME.exec(repo)?.[1]?.toLowerCase();
  if (!scheme) return 'ssh';
  return scheme === 'git+ssh' || scheme === 'ssh+git' ? 'ssh' : scheme;
}

/** Why a location must not be used as given, or undefined. */
export function repoLocationProblem(repo: string): string | undefined {
  const helper = REMOTE_HELPER.exec(repo);
  if (helper) return `must not use a git remote helper ("${helper[1]}::"): they run commands on the worker`;
  const scheme = SCHEME.exec(repo)?.[1]?.toLowerCase();
  if (scheme) {
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(repo)?.[1];
    const http = scheme === 'http' || scheme === 'https';
    if (userinfo !== undefined && (userinfo.includes(':') || http)) return CREDENTIALS;
    if (SECRET_QUERY.test(repo) || SECRET_QUERY.test(decoded(repo))) return CREDENTIALS;
  }
  return undefined;
}

const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

const CREDENTIALS =
  'must not contain credentials (job inputs are visible to every Temporal UI user); give the workers a git credential helper, GIT_ASKPASS or an SSH key instead';
