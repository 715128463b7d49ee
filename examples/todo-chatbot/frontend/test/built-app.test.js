import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, expect, test} from 'vitest'

import {closedPort, startLoopbackBackend} from './loopback-backend.js'

// The production build run the way the image runs it (`next start`), with NEXT_PUBLIC_API_URL set only
// at start, as the chart's ConfigMap does: proves the value is read at run time, not frozen by the build.
const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const READY_TIMEOUT_MS = 60_000

let backend
let server
let baseUrl
let output = ''

beforeAll(async () => {
  if (!existsSync(path.join(appDir, '.next', 'BUILD_ID'))) {
    throw new Error('no production build in .next: run `npm run build` first (`npm test` does)')
  }
  backend = await startLoopbackBackend(() => ({
    status: 200,
    json: [{id: 3, title: 'From the backend', done: true}],
  }))
  const port = await closedPort()
  baseUrl = `http://127.0.0.1:${port}`
  server = spawn(
    process.execPath,
    [
      path.join(appDir, 'node_modules', 'next', 'dist', 'bin', 'next'),
      'start',
      '-p',
      String(port),
      '-H',
      '127.0.0.1',
    ],
    {
      cwd: appDir,
      env: {
        ...process.env,
        NEXT_PUBLIC_API_URL: backend.url,
        NEXT_TELEMETRY_DISABLED: '1',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  server.stdout.on('data', (chunk) => (output += chunk))
  server.stderr.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (server.exitCode !== null) throw new Error(`next start exited ${server.exitCode}:\n${output}`)
    try {
      await fetch(baseUrl, {signal: AbortSignal.timeout(5_000)})
      return
    } catch {
      if (Date.now() > deadline)
        throw new Error(`next start did not answer within ${READY_TIMEOUT_MS / 1000}s:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
})

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
  await backend?.close()
})

test('GET / (the HEALTHCHECK and the probes) answers 200 with the page', async () => {
  const response = await fetch(baseUrl)
  expect(response.status).toBe(200)
  expect(await response.text()).toContain('<h1>Todos</h1>')
})

test('GET /api/todos reaches the backend named by the run-time NEXT_PUBLIC_API_URL', async () => {
  const response = await fetch(`${baseUrl}/api/todos`)
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual([{id: 3, title: 'From the backend', done: true}])
  expect(backend.requests.map(({method, url}) => `${method} ${url}`)).toEqual(['GET /api/todos'])
})
