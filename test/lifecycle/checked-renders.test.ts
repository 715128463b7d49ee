import {describe, expect, test} from 'vitest'

import {CheckedRenders} from '../../src/lib/lifecycle/up.js'

const RENDERED = [
  'kind: Deployment',
  'metadata: {name: todo-frontend}',
  'spec: {template: {spec: {containers: [{name: frontend, image: "todo-frontend:c-111111111111"}]}}}',
  '---',
  'kind: Deployment',
  'metadata: {name: todo-backend}',
  'spec: {template: {spec: {containers: [{name: backend, image: "todo-backend:c-222222222222"}]}}}',
].join('\n')
const REFS = ['todo-frontend:c-111111111111', 'todo-backend:c-222222222222']

describe('CheckedRenders: the last checked render of a dev session', () => {
  test('same inputs, new tags: the manifests come back with the new image references (the rules check those)', () => {
    const renders = new CheckedRenders()
    renders.remember('key', REFS, RENDERED)
    const reused = renders.reuse('key', ['todo-frontend:c-333333333333', REFS[1]!])
    expect(reused).toContain('image: "todo-frontend:c-333333333333"')
    expect(reused).not.toContain('c-111111111111')
    expect(reused).toContain('image: "todo-backend:c-222222222222"')
  })

  test('other inputs (chart, values, configuration) or a chart that writes images otherwise: render again', () => {
    const renders = new CheckedRenders()
    expect(renders.reuse('key', REFS)).toBeUndefined()
    renders.remember('key', REFS, RENDERED)
    expect(renders.reuse('other key', REFS)).toBeUndefined()

    // The chart splits repository and tag: a text replace cannot put the new tag in, so Helm renders.
    renders.remember('key', REFS, RENDERED.replace('todo-frontend:c-111111111111', 'todo-frontend@sha'))
    expect(renders.reuse('key', ['todo-frontend:c-333333333333', REFS[1]!])).toBeUndefined()
  })
})
