/**
 * The browser's side of the backend API. Same-origin `/api/todos`: the frontend's route handlers forward it
 * (spec A, NodePort), or the Ingress sends `/api` straight to the backend (spec B).
 */
async function call(path, init) {
  const response = await fetch(path, {
    ...init,
    headers: {accept: 'application/json', ...(init?.body ? {'content-type': 'application/json'} : {})},
  })
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    const detail = typeof body?.detail === 'string' ? body.detail : `HTTP ${response.status}`
    throw new Error(detail)
  }
  return body
}

export function listTodos() {
  return call('/api/todos')
}

export function addTodo(title) {
  return call('/api/todos', {method: 'POST', body: JSON.stringify({title})})
}

export function setDone(id, done) {
  return call(`/api/todos/${id}`, {method: 'PATCH', body: JSON.stringify({done})})
}
