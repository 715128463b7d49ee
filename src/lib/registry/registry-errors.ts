import {PrerequisiteError} from '../errors.js'
import {isLoopbackHost, type RegistryAddress} from './registry-address.js'

/** The registry (or its token service) could not be reached at `url`: exit 3 with the address tried. */
export class RegistryUnreachableError extends PrerequisiteError {
  constructor(address: RegistryAddress, url: string, reason: string, cause?: unknown) {
    const plainHttpHint =
      !address.insecure && isLoopbackHost(address.host) && /SSL|TLS|EPROTO|wrong version/i.test(reason)
        ? '; a registry on this machine that speaks plain HTTP needs `registry.insecure: true`'
        : ''
    super(`registry ${address.host} is not reachable at ${url}: ${reason}`, {
      where: url,
      fix: `check that the registry runs and that ${address.host} is the right address (registry.url)${plainHttpHint}`,
      cause,
    })
    this.name = 'RegistryUnreachableError'
  }
}

/** The registry refused the request (401, 403): exit 3 naming the registry and `docker login`. */
export class RegistryRefusedError extends PrerequisiteError {
  constructor(
    readonly host: string,
    readonly status: 401 | 403,
    /** What was being done: `pushing …`, `reading the manifest of …`. */
    during: string,
    /** Whether credentials were sent (and refused) or none were found. */
    hadCredentials: boolean,
  ) {
    const message =
      status === 403
        ? `registry ${host} denied access while ${during} (HTTP 403)`
        : hadCredentials
          ? `registry ${host} refused the Docker credentials while ${during} (HTTP 401)`
          : `registry ${host} wants a login while ${during} (HTTP 401), and the Docker config has none for it`
    super(message, {
      where: `registry.url (${host})`,
      fix:
        status === 403
          ? `log in as a user allowed to push there: \`docker login ${host}\``
          : `log in: \`docker login ${host}\``,
    })
    this.name = 'RegistryRefusedError'
  }
}

/** The short reason of a failed connection: `ECONNREFUSED`, `timed out after 10s`, … */
export function connectionFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${timeoutMs < 1000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 1000)}s`}`
  const cause = (error as {cause?: unknown} | undefined)?.cause
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  const message = cause instanceof Error ? cause.message : error instanceof Error ? error.message : ''
  return code ?? (message || 'connection failed')
}
