import {describe, expect, it} from 'vitest'

import {firstUrlLine, qualifiedImageRef, sameImageId} from '../../src/lib/cluster/cluster-target.js'

describe('image references as container runtimes list them', () => {
  it('qualifies short names the way minikube and crictl print them', () => {
    expect(qualifiedImageRef('todo-frontend:sha-1a2b')).toBe('docker.io/library/todo-frontend:sha-1a2b')
    expect(qualifiedImageRef('todo-frontend')).toBe('docker.io/library/todo-frontend:latest')
    expect(qualifiedImageRef('acme/todo-frontend:1.0.0')).toBe('docker.io/acme/todo-frontend:1.0.0')
    expect(qualifiedImageRef('localhost:5000/todo-frontend:1.0.0')).toBe('localhost:5000/todo-frontend:1.0.0')
    expect(qualifiedImageRef('registry.local/team/todo-backend')).toBe(
      'registry.local/team/todo-backend:latest',
    )
    expect(qualifiedImageRef('docker.io/library/todo-frontend:sha-1a2b')).toBe(
      'docker.io/library/todo-frontend:sha-1a2b',
    )
  })

  it('compares image IDs with or without the sha256: prefix', () => {
    expect(sameImageId('sha256:abc123', 'abc123\n')).toBe(true)
    expect(sameImageId('sha256:abc123', 'sha256:abc124')).toBe(false)
  })

  it('takes the first line that is only a URL', () => {
    expect(
      firstUrlLine(['* Starting tunnel for service x.', '  http://127.0.0.1:52613  ', 'https://x']),
    ).toBe('http://127.0.0.1:52613')
    expect(firstUrlLine(['see http://example.com for help'])).toBeUndefined()
  })
})
