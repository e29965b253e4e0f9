// The doctor's look at the web app's settings: where it listens (FINDIMAGE_WEB_HOST and _PORT)
// and whether a token guards it. Off loopback without FINDIMAGE_WEB_TOKEN the server refuses to
// start (checkListenAddress); off loopback with a token but no HTTPS proxy in front, the token
// crosses the network in clear text.
import { fail, ok, warn, type Check, type CheckResult } from '../core/doctor/check.js';
import { FindimageError } from '../core/errors.js';
import { checkListenAddress, isLoopbackHost } from './web-access.js';

export interface WebDoctorOptions {
  /** FINDIMAGE_WEB_HOST. */
  host: string;
  /** FINDIMAGE_WEB_PORT. */
  port: number;
  /** Whether FINDIMAGE_WEB_TOKEN is set (never the token itself). */
  hasToken: boolean;
  /** Whether FINDIMAGE_WEB_TRUST_PROXY names a reverse proxy. */
  behindProxy: boolean;
}

/** The check of the web app's bind address and token. */
export function webAccessCheck(options: WebDoctorOptions): Check {
  return { name: 'web access', run: async () => checkWebAccess(options) };
}

function checkWebAccess(options: WebDoctorOptions): CheckResult {
  const where = `listens on ${options.host}:${options.port}`;
  try {
    checkListenAddress(options.host, options.hasToken ? 'set' : undefined);
  } catch (error) {
    if (!(error instanceof FindimageError)) throw error;
    return fail(`${where}, reachable from other machines, and FINDIMAGE_WEB_TOKEN is not set: findimage serve and web refuse to start`, 'Set FINDIMAGE_WEB_TOKEN to a long random secret (openssl rand -hex 24), or FINDIMAGE_WEB_HOST=127.0.0.1.');
  }
  if (isLoopbackHost(options.host)) return ok(`${where} (this machine only; no token needed)`);
  if (!options.behindProxy) {
    return warn(
      `${where} with a token, and no reverse proxy is named`,
      'Serve it through an HTTPS reverse proxy and set FINDIMAGE_WEB_TRUST_PROXY to its address (docs/web.md): over plain http the token crosses the network in clear text.',
    );
  }
  return ok(`${where} with a token, behind a reverse proxy`);
}
