import {forward} from '../../../../lib/backend.js'

export const dynamic = 'force-dynamic'

export function PATCH(request, {params}) {
  return forward(request, `/api/todos/${encodeURIComponent(params.id)}`)
}
