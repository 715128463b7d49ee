import {forward} from '../../../lib/backend.js'

// Every request goes to the backend: nothing here may be rendered or cached at build time.
export const dynamic = 'force-dynamic'

export function GET(request) {
  return forward(request, '/api/todos')
}

export function POST(request) {
  return forward(request, '/api/todos')
}
