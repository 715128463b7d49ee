import {describe, expect, test} from 'vitest'

import {
  isLoopbackHost,
  parseRegistryUrl,
  registryApiBase,
  registryRepository,
} from '../../src/lib/registry/registry-address.js'

describe('registry addresses', () => {
  test('registry.url is split into the host (the Docker login key) and the namespace', () => {
    expect(parseRegistryUrl('registry.example.com/org/team')).toEqual({
      host: 'registry.example.com',
      namespace: 'org/team',
      insecure: false,
    })
    expect(parseRegistryUrl('localhost:5000', true)).toEqual({
      host: 'localhost:5000',
      namespace: '',
      insecure: true,
    })
  })

  test('images are named under the namespace; the API is https unless insecure', () => {
    const team = parseRegistryUrl('registry.example.com/team')
    expect(registryRepository(team, 'todo-frontend')).toBe('registry.example.com/team/todo-frontend')
    expect(registryApiBase(team)).toBe('https://registry.example.com/v2/')
    const local = parseRegistryUrl('localhost:5000', true)
    expect(registryRepository(local, 'todo-backend')).toBe('localhost:5000/todo-backend')
    expect(registryApiBase(local)).toBe('http://localhost:5000/v2/')
  })

  test('loopback hosts are the ones whose traffic never leaves the machine', () => {
    for (const host of [
      'localhost',
      'localhost:5000',
      '127.0.0.1:5000',
      '127.1.2.3',
      '[::1]:5000',
      'registry.localhost',
    ])
      expect(isLoopbackHost(host), host).toBe(true)
    for (const host of [
      'registry.example.com',
      '192.168.49.2:5000',
      '10.0.0.1',
      'localhost.example.com',
      'printer.local',
    ])
      expect(isLoopbackHost(host), host).toBe(false)
  })
})
