import {ApiException} from '@kubernetes/client-node'

import {DeployError, PrerequisiteError, TodoDeployError} from '../errors.js'
import {KubeRequestTimeoutError} from './kube-http.js'
import {NamespaceTerminatingError, terminatingNamespaceOf} from './namespace-termination.js'

/** What a call to the API server was trying to do, so an error can say it in the user's terms. */
export interface KubeCall {
  /** Kubernetes verb: get, list, create, update, patch, delete. */
  verb: string
  /** Plural resource: namespaces, secrets, leases, configmaps, pods, services. */
  resource: string
  name?: string
  namespace?: string
}

/** Where the calls go: the API server URL and the kube context that chose it. */
export interface KubeTarget {
  server: string
  context: string
}

export function describeCall(call: KubeCall): string {
  const object = call.name === undefined ? call.resource : `${call.resource}/${call.name}`
  return call.namespace === undefined
    ? `${call.verb} ${object}`
    : `${call.verb} ${object} in namespace ${call.namespace}`
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
])

// EPROTO: the TLS handshake got something that is not TLS (e.g. https:// to a plain-HTTP port).
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|^EPROTO$/

/** client-node's fallback when no kubeconfig exists anywhere: it never points at a real cluster. */
export const CLIENT_NODE_FALLBACK_SERVER = 'http://localhost:8080'

export function isApiStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code
}

/** Resolves to null when the object does not exist (HTTP 404); every other failure passes through. */
export async function nullIfNotFound<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise
  } catch (error) {
    if (isApiStatus(error, 404)) return null
    throw error
  }
}

/**
 * The `message` of the Status object the API server sends with an error (client-node hands the body
 * over parsed, or as text for status codes its spec does not declare); a non-JSON body is returned as text.
 */
export function statusMessage(body: unknown): string | undefined {
  let parsed = body
  if (typeof body === 'string') {
    const text = body.trim()
    try {
      parsed = JSON.parse(text)
    } catch {
      return text === '' ? undefined : text.slice(0, 300)
    }
  }
  const message = (parsed as {message?: unknown} | null | undefined)?.message
  return typeof message === 'string' ? message : undefined
}

/** A short description of a failed list or watch, for the "last error" of a give-up. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiException) {
    const message = statusMessage(error.body)
    return `HTTP ${error.code}${message === undefined ? '' : `: ${message}`}`
  }
  const coded = error as {statusCode?: number; code?: string; message?: string; cause?: {code?: string}}
  if (coded.statusCode !== undefined)
    return `HTTP ${coded.statusCode}${coded.message ? ` ${coded.message}` : ''}`
  return systemErrorCode(error) ?? coded.code ?? coded.message ?? String(error)
}

function systemErrorCode(error: unknown): string | undefined {
  for (
    let current = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
  }
  return undefined
}

const CLUSTER_STATUS_FIX =
  'is the cluster running? Check with `minikube status` (start it with `minikube start`)'

/**
 * Turns whatever client-node threw into an error the user can act on, naming the API server and the
 * call. Errors this module does not recognise are returned unchanged: they are bugs, and keep their stack.
 */
export function toKubeError(error: unknown, call: KubeCall, target: KubeTarget): unknown {
  if (error instanceof TodoDeployError) return error
  const what = describeCall(call)
  const where = `kube context ${target.context} (${target.server})`

  if (error instanceof KubeRequestTimeoutError) {
    return new PrerequisiteError(
      `the Kubernetes API at ${target.server} did not answer "${what}" (${error.method} ${error.path}) within ${error.timeoutMs / 1000}s`,
      {where, fix: `${CLUSTER_STATUS_FIX}; a slow cluster may need a longer --timeout`, cause: error},
    )
  }

  if (error instanceof ApiException) {
    const serverSays = statusMessage(error.body)
    const details = serverSays === undefined ? [] : [`the API server said: ${serverSays}`]
    if (error.code === 401) {
      return new PrerequisiteError(
        `the Kubernetes API at ${target.server} rejected the credentials of kube context ${target.context} (401 Unauthorized) while trying to ${what}`,
        {
          where,
          details,
          fix: 'refresh the credentials in your kubeconfig (for minikube: `minikube update-context`), or pick another context with --context',
          cause: error,
        },
      )
    }
    // A namespace being deleted refuses new content with 403 too: that is no missing right.
    const terminating = error.code === 403 ? terminatingNamespaceOf(error.body, call.namespace) : undefined
    if (terminating !== undefined) {
      return new NamespaceTerminatingError(terminating || (call.namespace ?? ''), {
        refused: `the API server refused to ${what}`,
        details,
        cause: error,
      })
    }
    if (error.code === 403) {
      return new PrerequisiteError(
        `kube context ${target.context} is not allowed to ${what} (403 Forbidden)`,
        {
          where,
          details,
          fix: `grant the user of context ${target.context} the right to ${call.verb} ${call.resource}${call.namespace === undefined ? '' : ` in namespace ${call.namespace}`} (check with \`kubectl auth can-i ${call.verb} ${call.resource}${call.namespace === undefined ? '' : ` -n ${call.namespace}`}\`)`,
          cause: error,
        },
      )
    }
    if (error.code >= 500) {
      return new PrerequisiteError(
        `the Kubernetes API at ${target.server} failed to ${what} (HTTP ${error.code})`,
        {
          where,
          details,
          fix: `${CLUSTER_STATUS_FIX}; then run the command again`,
          cause: error,
        },
      )
    }
    return new DeployError(`the Kubernetes API at ${target.server} refused to ${what} (HTTP ${error.code})`, {
      where,
      details,
      fix: 'read the API server message above; run again with --verbose for the full response',
      cause: error,
    })
  }

  const code = systemErrorCode(error)
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    const fallback =
      target.server === CLIENT_NODE_FALLBACK_SERVER
        ? ' (this is the default address used when no kubeconfig exists: start minikube with `minikube start`, or set KUBECONFIG)'
        : ''
    return new PrerequisiteError(
      `cannot reach the Kubernetes API at ${target.server} (${code}) to ${what}${fallback}`,
      {
        where,
        fix: CLUSTER_STATUS_FIX,
        cause: error,
      },
    )
  }
  if (code !== undefined && TLS_CODE.test(code)) {
    return new PrerequisiteError(
      `the TLS connection to the Kubernetes API at ${target.server} failed (${code}) while trying to ${what}`,
      {
        where,
        fix: 'the certificates in your kubeconfig do not match the cluster: for minikube run `minikube update-context`, otherwise fetch a fresh kubeconfig for this cluster',
        cause: error,
      },
    )
  }
  if (error instanceof Error && error.message.startsWith('HTTP protocol is not allowed')) {
    return new PrerequisiteError(
      `kube context ${target.context} points at a plain-HTTP server (${target.server}) without insecure-skip-tls-verify`,
      {
        where,
        fix: 'use the https:// address of the cluster in your kubeconfig, or set insecure-skip-tls-verify: true for that cluster if plain HTTP is really intended',
        cause: error,
      },
    )
  }
  return error
}

/** A list/watch whose retries ran out: what it followed, and how the last attempt failed. */
export interface LostWatch {
  resource: string
  namespace: string
  attempts: number
  elapsedMs: number
  lastError: unknown
}

/** The one wording for "the API server went away while we were watching", whoever was watching. */
export function lostApiServerError(lost: LostWatch, target: KubeTarget): PrerequisiteError {
  return new PrerequisiteError(
    `Lost the Kubernetes API server at ${target.server}: ${lost.attempts} attempts to list/watch ${lost.resource} in namespace ${lost.namespace} failed over ${Math.round(lost.elapsedMs / 1000)} s (last error: ${describeFailure(lost.lastError)})`,
    {
      where: `kube context ${target.context} (${target.server})`,
      fix: `${CLUSTER_STATUS_FIX}; then run the command again`,
      cause: lost.lastError,
    },
  )
}
