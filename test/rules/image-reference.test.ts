import {describe, expect, it} from 'vitest'

import {checkImageReference, checkImageSize, parseImageReference} from '../../src/lib/rules/index.js'

const ids = (violations: {id: string; severity: string}[]) => violations.map((v) => `${v.id}:${v.severity}`)

describe('checkImageReference (image.name-pattern)', () => {
  it.each([
    'todo-frontend:1.0.0',
    'todo-backend:sha-abc123',
    'localhost:5000/todo-backend:1.2.3',
    'registry.example.com/team/todo-frontend:c0ffee.1',
  ])('accepts %s', (ref) => {
    expect(checkImageReference(ref)).toEqual([])
  })

  it.each([
    ['Todo-Frontend:1.0.0', /uppercase/],
    ['todo-frontend:V1', /uppercase/],
    ['todo_frontend:1.0.0', /does not match/],
    ['todo-frontend', /no tag/],
    ['todo-frontend:1.0_0', /tag "1.0_0"/],
  ])('reports %s as an error', (ref, message) => {
    const violations = checkImageReference(ref)
    expect(ids(violations)).toEqual(['image.name-pattern:error'])
    expect(violations[0]?.message).toMatch(message)
  })

  it('warns about latest, which a rollback cannot restore', () => {
    expect(ids(checkImageReference('todo-frontend:latest'))).toEqual(['image.name-pattern:warn'])
  })

  it('splits registry, name, tag and digest', () => {
    expect(parseImageReference('localhost:5000/a/b:1@sha256:' + 'a'.repeat(64))).toEqual({
      registry: 'localhost:5000',
      name: 'a/b',
      tag: '1',
      digest: 'sha256:' + 'a'.repeat(64),
    })
    expect(parseImageReference('node:18-alpine')).toEqual({
      registry: undefined,
      name: 'node',
      tag: '18-alpine',
      digest: undefined,
    })
  })
})

describe('checkImageSize (image.size)', () => {
  it('passes an image under its target and reports one over it with the size', () => {
    expect(checkImageSize(180_000_000, 300)).toEqual([])
    const [violation] = checkImageSize(420_500_000, 300, {image: 'todo-backend:1.0.0'})
    expect(violation).toMatchObject({id: 'image.size', object: 'image todo-backend:1.0.0'})
    expect(violation?.message).toContain('420.5 MB')
  })
})
