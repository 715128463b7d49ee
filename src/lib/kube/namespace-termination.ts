import {DeployError} from '../errors.js'

/**
 * A deleted namespace stays Terminating while the namespace controller removes its content and its
 * finalizers run (seconds, or for ever when a finalizer's controller is gone). Meanwhile the API server
 * refuses anything new in it with 403 Forbidden: not a missing right, so never worded as one.
 * Recorded answers: test/fixtures/k8s/namespace-terminating/.
 */

/** The API server's message, as the Status body and helm (which quotes it) carry it. */
const TERMINATING_MESSAGE = /unable to create new content in namespace (\S+) because it is being terminated/

interface StatusBody {
  message?: unknown
  details?: {causes?: {reason?: unknown}[]}
}

/** The namespace a 403 names as being terminated, or undefined when the 403 is about something else. */
export function terminatingNamespaceOf(body: unknown, fallbackNamespace?: string): string | undefined {
  let parsed: unknown = body
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body)
    } catch {
      return TERMINATING_MESSAGE.exec(body)?.[1]
    }
  }
  const status = (parsed ?? {}) as StatusBody
  const message = typeof status.message === 'string' ? status.message : ''
  const named = TERMINATING_MESSAGE.exec(message)?.[1]
  if (named !== undefined) return named
  const byCause = status.details?.causes?.some((cause) => cause.reason === 'NamespaceTerminating')
  return byCause ? (fallbackNamespace ?? '') : undefined
}

/** helm's error text for the same refusal (it quotes the API server): the namespace, or undefined. */
export function terminatingNamespaceInText(text: string): string | undefined {
  return TERMINATING_MESSAGE.exec(text)?.[1]
}

/** Something new was refused because the namespace is being deleted (exit 5, with what to do). */
export class NamespaceTerminatingError extends DeployError {
  constructor(
    readonly namespace: string,
    options: {refused?: string; details?: string[]; cause?: unknown} = {},
  ) {
    super(
      `namespace ${namespace} is being deleted (Terminating)${options.refused === undefined ? '' : `: ${options.refused}`}; nothing new can be created in it until it is gone`,
      {
        where: `namespace ${namespace}`,
        details: options.details,
        fix: `wait until it is gone (\`kubectl get namespace ${namespace}\` answers NotFound; \`todo-deploy down --purge\` waits for it), then run the command again; if it stays Terminating, \`kubectl get namespace ${namespace} -o yaml\` names what holds it`,
        cause: options.cause,
      },
    )
    this.name = 'NamespaceTerminatingError'
  }
}
