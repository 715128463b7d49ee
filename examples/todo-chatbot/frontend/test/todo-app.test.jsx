// @vitest-environment jsdom
import {cleanup, fireEvent, render, screen, waitFor, within} from '@testing-library/react'
import {afterEach, beforeEach, expect, test, vi} from 'vitest'

import Page from '../app/page.jsx'

/**
 * A stand-in for the backend behind `/api/todos`, with the FastAPI app's answers: the page only ever
 * calls same-origin paths, so stubbing `fetch` is exactly the boundary the browser crosses.
 */
function fakeBackend(initial) {
  const todos = initial.map((todo) => ({...todo}))
  const calls = []
  const json = (status, body) =>
    new Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json'}})
  const fetch = vi.fn(async (url, init = {}) => {
    const method = init.method ?? 'GET'
    const body = init.body ? JSON.parse(init.body) : undefined
    calls.push({method, url, body})
    if (url === '/api/todos' && method === 'GET') return json(200, todos)
    if (url === '/api/todos' && method === 'POST') {
      const created = {id: todos.length + 1, title: body.title, done: false}
      todos.push(created)
      return json(201, created)
    }
    const match = /^\/api\/todos\/(\d+)$/.exec(url)
    const todo = match && todos.find((item) => item.id === Number(match[1]))
    if (todo && method === 'PATCH') {
      todo.done = body.done
      return json(200, todo)
    }
    return json(404, {detail: 'todo not found'})
  })
  return {fetch, calls, todos}
}

let backend
beforeEach(() => {
  backend = fakeBackend([
    {id: 1, title: 'Buy milk', done: false},
    {id: 2, title: 'Write the README', done: true},
  ])
  vi.stubGlobal('fetch', backend.fetch)
})

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

const list = () => screen.findByRole('list', {name: 'Todos'})

test("lists the backend's todos, the completed ones checked", async () => {
  render(<Page />)
  const items = within(await list()).getAllByRole('listitem')
  expect(items.map((item) => item.textContent.trim())).toEqual(['Buy milk', 'Write the README'])
  expect(screen.getByRole('checkbox', {name: 'Buy milk'}).checked).toBe(false)
  expect(screen.getByRole('checkbox', {name: 'Write the README'}).checked).toBe(true)
  expect(backend.calls).toEqual([{method: 'GET', url: '/api/todos', body: undefined}])
})

test('adds a todo: POSTs the trimmed title, shows it and clears the field', async () => {
  render(<Page />)
  await list()
  const input = screen.getByRole('textbox', {name: 'New todo'})
  fireEvent.change(input, {target: {value: '  Deploy to minikube  '}})
  fireEvent.click(screen.getByRole('button', {name: 'Add'}))

  expect(await screen.findByRole('checkbox', {name: 'Deploy to minikube'})).toBeTruthy()
  expect(backend.calls.at(-1)).toEqual({
    method: 'POST',
    url: '/api/todos',
    body: {title: 'Deploy to minikube'},
  })
  expect(input.value).toBe('')
  expect(backend.todos.map((todo) => todo.title)).toContain('Deploy to minikube')
})

test('an empty title cannot be added', async () => {
  render(<Page />)
  await list()
  fireEvent.change(screen.getByRole('textbox', {name: 'New todo'}), {target: {value: '   '}})
  expect(screen.getByRole('button', {name: 'Add'}).disabled).toBe(true)
  fireEvent.submit(screen.getByRole('textbox', {name: 'New todo'}).closest('form'))
  expect(backend.calls.filter((call) => call.method === 'POST')).toEqual([])
})

test('completes a todo: PATCHes done and shows it checked', async () => {
  render(<Page />)
  await list()
  fireEvent.click(screen.getByRole('checkbox', {name: 'Buy milk'}))

  await waitFor(() => expect(screen.getByRole('checkbox', {name: 'Buy milk'}).checked).toBe(true))
  expect(backend.calls.at(-1)).toEqual({method: 'PATCH', url: '/api/todos/1', body: {done: true}})
  expect(screen.getByRole('checkbox', {name: 'Buy milk'}).closest('li').className).toBe('done')
  expect(backend.todos[0].done).toBe(true)
})

test("a backend that does not answer: the page says so with the proxy's reason", async () => {
  vi.stubGlobal(
    'fetch',
    vi.fn(
      async () =>
        new Response(
          JSON.stringify({detail: 'the backend at http://todo-backend-service:8080 did not answer'}),
          {
            status: 502,
            headers: {'content-type': 'application/json'},
          },
        ),
    ),
  )
  render(<Page />)
  expect((await screen.findByRole('alert')).textContent).toBe(
    'Could not load the todos: the backend at http://todo-backend-service:8080 did not answer',
  )
  expect(screen.queryByText('Loading…')).toBeNull()
})
