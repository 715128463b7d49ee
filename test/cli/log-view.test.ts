import {describe, expect, test} from 'vitest'

import {colorFor, LogView, shortPodName} from '../../src/cli/log-view.js'
import type {LogLineEvent} from '../../src/lib/logs/log-multiplexer.js'

const line = (service: 'frontend' | 'backend', container: string = service): LogLineEvent => ({
  type: 'line',
  service,
  pod: `todo-${service}-7d9f8c6b5-x2kq9`,
  container,
  time: '2026-11-21T20:00:01.5Z',
  line: 'hello',
  previous: false,
})

const view = (color: boolean) =>
  new LogView({
    color,
    timestamps: false,
    services: ['frontend', 'backend'],
    containers: {frontend: 'frontend', backend: 'backend'},
  })

describe('log lines for people', () => {
  test('short pod names: ReplicaSet hash and pod suffix; other names whole', () => {
    expect(shortPodName('todo-frontend-7d9f8c6b5-x2kq9')).toBe('7d9f-x2kq9')
    expect(shortPodName('standalone')).toBe('standalone')
  })

  test('each service its own colour on a terminal; none without one or with NO_COLOR', () => {
    const frontend = view(true).line(line('frontend'))
    const backend = view(true).line(line('backend'))
    expect(frontend).toContain('\u001B[36m')
    expect(backend).toContain('\u001B[35m')
    expect(view(false).line(line('frontend'))).toBe('frontend 7d9f-x2kq9 │ hello')
    expect(colorFor({isTTY: true}, {})).toBe(true)
    expect(colorFor({isTTY: true}, {NO_COLOR: '1'})).toBe(false)
    expect(colorFor({isTTY: false}, {})).toBe(false)
  })

  test("a container other than the service's own is named in the prefix", () => {
    expect(view(false).line(line('backend', 'migrate'))).toBe('backend  7d9f-x2kq9/migrate │ hello')
  })
})
