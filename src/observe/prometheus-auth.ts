import { open } from 'node:fs/promises';
import { AppError } from '../shared/errors.js';

/** The most a token or password file may hold (a Kubernetes service-account token is about 1 KiB). */
export const maxSecretFileBytes = 16 * 1024;

/** How the service authenticates to Prometheus: PROMETHEUS_URL's credentials, or a file read at every query. */
export interface PrometheusAuth {
  /** PROMETHEUS_BEARER_TOKEN_FILE: `Authorization: Bearer <its content>` */
  bearerTokenFile?: string;
  /** PROMETHEUS_BASIC_AUTH_PASSWORD_FILE: the password of the user named in PROMETHEUS_URL */
  basicAuthPasswordFile?: string;
}

/** PROMETHEUS_URL as given and as queried: without credentials (fetch refuses them, and they must not be echoed). */
export interface PrometheusEndpoint {
  /** scheme, host, port and path prefix, no trailing slash */
  base: string;
  /** percent-decoded; null when the URL names no user */
  username: string | null;
  password: string | null;
}

/**
 * Splits PROMETHEUS_URL into its address and credentials, or says what is wrong with it (never quoting it: it
 * may hold a password).
 */
export function parsePrometheusUrl(url: string): PrometheusEndpoint | { problem: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { problem: 'must be an http:// or https:// URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: 'must be an http:// or https:// URL' };
  if (u.search || u.hash || url.includes('?') || url.includes('#'))
    return { problem: 'must not carry a query or a fragment (the service adds /api/v1/query?...)' };
  let username: string | null;
  let password: string | null;
  try {
    username = u.username ? decodeURIComponent(u.username) : null;
    password = u.password ? decodeURIComponent(u.password) : null;
  } catch {
    return { problem: 'its user name and password must be percent-encoded' };
  }
  if (username?.includes(':')) return { problem: 'its user name must not contain ":" (percent-encoded or not)' };
  if (password !== null && username === null) return { problem: 'a password needs a user name (http://user:pass@)' };
  u.username = '';
  u.password = '';
  return { base: u.href.replace(/\/+$/, ''), username, password };
}

/** The endpoint of a URL the configuration accepted (an invalid one throws, without quoting it). */
export function prometheusEndpoint(url: string): PrometheusEndpoint {
  const parsed = parsePrometheusUrl(url);
  if ('problem' in parsed) throw new AppError('internal', `PROMETHEUS_URL: ${parsed.problem}`);
  return parsed;
}

/**
 * The Authorization header of a query, or null: the bearer token file's content, else Basic with the URL's user
 * and its password (from the URL or the password file). The files are read at every query, so a rotated secret
 * (a Kubernetes Secret volume swaps its files) is used from the next query on.
 */
export async function authorization(endpoint: PrometheusEndpoint, auth: PrometheusAuth): Promise<string | null> {
  if (auth.bearerTokenFile)
    return `Bearer ${await readSecretFile(auth.bearerTokenFile, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token')}`;
  if (endpoint.username === null) return null;
  const password = auth.basicAuthPasswordFile
    ? await readSecretFile(auth.basicAuthPasswordFile, 'PROMETHEUS_BASIC_AUTH_PASSWORD_FILE', 'password')
    : (endpoint.password ?? '');
  return `Basic ${Buffer.from(`${endpoint.username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * A secret file's content without its surrounding blanks (a trailing newline, as Prometheus' own `*_file`
 * settings read them), at most `maxSecretFileBytes`. Failures are AppError `sourceUnavailable` naming the
 * variable and the errno code, never the content.
 */
export async function readSecretFile(path: string, variable: string, kind: 'token' | 'password'): Promise<string> {
  const fail = (why: string) =>
    new AppError('sourceUnavailable', `cannot read ${variable}: ${why}`, { source: 'prometheus', setting: variable });
  let bytes: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      if (!(await file.stat()).isFile()) throw fail('not a regular file');
      const buffer = Buffer.alloc(maxSecretFileBytes + 1);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      if (bytesRead > maxSecretFileBytes) throw fail(`larger than ${maxSecretFileBytes} bytes`);
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(typeof code === 'string' && /^E[A-Z]{1,20}$/.test(code) ? code : 'unreadable');
  }
  const secret = bytes.toString('utf8').trim();
  if (kind === 'token' && !/^[\x21-\x7e]{1,16384}$/.test(secret))
    throw fail('it must hold one token of printable ASCII characters, without blanks');
  // a line break inside is a file of several values (a whole .env, a kubeconfig), not a password
  if (kind === 'password' && /[\0\r\n]/.test(secret)) throw fail('the password must not contain line breaks or NUL');
  return secret;
}
