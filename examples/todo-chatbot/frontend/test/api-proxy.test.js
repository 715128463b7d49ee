import {afterEach, beforeEach, expect, test, vi} from 'vitest'

import {PATCH} from '../app/api/todos/[id]/route.js'
import {GET, POST} from '../app/api/todos/route.js'
import {backendUrl, DEFAULT_API_URL} from '../lib/backend.js'
import {closedPort, startLoopbackBackend} from './loopback-backend.js'

let backend
beforeEach(async () => {
  backend = await startLoopbackBackend((request, body) => {
    if (request.method === 'POST')
      return {status: 201, json: {id: 7, title: JSON.parse(body).title, done: false}}
    if (request.method === 'PATCH') return {status: 404, json: {detail: 'todo 99 not found'}}
    return {status: 200, json: [{id: 1, title: 'Buy milk', done: false}]}
  })
  vi.stubEnv('NEXT_PUBLIC_API_URL', `${backend.url}/`)
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await backend.close()
})

const browserRequest = (method, body) =>
  new Request('http://frontend.test/api/todos', {
    method,
    headers: body === undefined ? {} : {'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  })

test('GET /api/todos is forwarded to NEXT_PUBLIC_API_URL as the pod has it at run time', async () => {
  const response = await GET(browserRequest('GET'))
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual([{id: 1, title: 'Buy milk', done: false}])
  expect(backend.requests.map(({method, url}) => ({method, url}))).toEqual([
    {method: 'GET', url: '/api/todos'},
  ])
})

test('POST /api/todos forwards the JSON body and passes the status on', async () => {
  const response = await POST(browserRequest('POST', {title: 'Deploy'}))
  expect(response.status).toBe(201)
  expect(await response.json()).toEqual({id: 7, title: 'Deploy', done: false})
  expect(backend.requests[0]).toMatchObject({method: 'POST', url: '/api/todos', body: '{"title":"Deploy"}'})
  expect(backend.requests[0].headers['content-type']).toBe('application/json')
})

test("PATCH /api/todos/{id} forwards to the todo's path and passes the backend's error on", async () => {
  const response = await PATCH(browserRequest('PATCH', {done: true}), {params: {id: '99'}})
  expect(response.status).toBe(404)
  expect(await response.json()).toEqual({detail: 'todo 99 not found'})
  expect(backend.requests[0]).toMatchObject({method: 'PATCH', url: '/api/todos/99', body: '{"done":true}'})
})

test('a backend that refuses the connection: 502 naming the URL, not a crash', async () => {
  vi.stubEnv('NEXT_PUBLIC_API_URL', `http://127.0.0.1:${await closedPort()}`)
  const response = await GET(browserRequest('GET'))
  expect(response.status).toBe(502)
  const {detail} = await response.json()
  expect(detail).toMatch(/^the backend at http:\/\/127\.0\.0\.1:\d+ did not answer \(ECONNREFUSED\)/)
})

test("without NEXT_PUBLIC_API_URL the chart's default backend Service is used", () => {
  expect(backendUrl({})).toBe('http://todo-backend-service:8080')
  expect(backendUrl({NEXT_PUBLIC_API_URL: ' '})).toBe(DEFAULT_API_URL)
  expect(backendUrl({NEXT_PUBLIC_API_URL: 'http://backend-service:8000/'})).toBe(
    'http://backend-service:8000',
  )
})
