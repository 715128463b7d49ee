import {createServer} from 'node:http'

/** A backend on 127.0.0.1 that records each request and answers with `answer(request, body)`. */
export async function startLoopbackBackend(answer) {
  const requests = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      requests.push({method: request.method, url: request.url, headers: request.headers, body})
      const {status, json} = answer(request, body)
      response.writeHead(status, {'content-type': 'application/json'})
      response.end(JSON.stringify(json))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {url, requests, close: () => new Promise((resolve) => server.close(resolve))}
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedPort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}
