/**
 * Server side only: where the backend is, and forwarding one request to it.
 *
 * The chart's ConfigMap sets NEXT_PUBLIC_API_URL in the pod's environment at run time. Next.js replaces a
 * literal `process.env.NEXT_PUBLIC_…` with its build-time value, and the image is built before the
 * ConfigMap is known (spec B points it at another Service and port), so the name is looked up by a
 * variable, which Next.js leaves alone.
 */
const API_URL_VARIABLE = 'NEXT_PUBLIC_API_URL'
/** The chart's default (spec A) and the frontend Dockerfile's build argument default. */
export const DEFAULT_API_URL = 'http://todo-backend-service:8080'
const BACKEND_TIMEOUT_MS = 10_000

export function backendUrl(env = process.env) {
  const configured = env[API_URL_VARIABLE]
  return (configured && configured.trim() !== '' ? configured.trim() : DEFAULT_API_URL).replace(/\/+$/, '')
}

/** Sends `request` on to the backend's `path` and returns the backend's answer as it is. */
export async function forward(request, path) {
  const base = backendUrl()
  const headers = {accept: 'application/json'}
  const init = {method: request.method, headers, cache: 'no-store'}
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    headers['content-type'] = request.headers.get('content-type') ?? 'application/json'
    init.body = await request.text()
  }
  let response
  try {
    response = await fetch(`${base}${path}`, {...init, signal: AbortSignal.timeout(BACKEND_TIMEOUT_MS)})
  } catch (error) {
    const reason = error?.cause?.code ?? error?.name ?? 'no answer'
    return Response.json(
      {
        detail: `the backend at ${base} did not answer (${reason}); check that the todo-backend pods are ready`,
      },
      {status: 502},
    )
  }
  return new Response(await response.text(), {
    status: response.status,
    headers: {'content-type': response.headers.get('content-type') ?? 'application/json'},
  })
}
