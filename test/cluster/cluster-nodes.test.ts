import {readFileSync} from 'node:fs'

import type {V1Node} from '@kubernetes/client-node'
import {describe, expect, test} from 'vitest'

import {nodesListing, nodeStatusOf, SharedNodeReader} from '../../src/lib/cluster/cluster-nodes.js'

const recorded = JSON.parse(
  readFileSync('test/fixtures/real-cluster/node-status-images.json', 'utf8'),
) as V1Node

describe('the node status the API server gives for free', () => {
  test('a real node: its UID, boot ID and images, a loaded image under docker.io/library/', () => {
    const node = nodeStatusOf(recorded)
    expect(node).toMatchObject({
      name: 'minikube',
      uid: '59165fe8-1146-435b-bd97-76efd83f87a3',
      bootId: 'd4c34045-d444-4303-893e-daab404d73d8',
    })
    expect(nodesListing({nodes: [node]}, 'todo-frontend:c-0123456789ab')).toEqual(['minikube'])
    expect(nodesListing({nodes: [node]}, 'todo-frontend:c-ffffffffffff')).toBeUndefined()
    expect(nodesListing({nodes: [node]}, 'todo-backend:c-0123456789ab')).toBeUndefined()
  })

  test('on several nodes an image counts only when every node lists it; no nodes, no answer', () => {
    const one = nodeStatusOf(recorded)
    const other = {...one, name: 'minikube-m02', images: []}
    expect(nodesListing({nodes: [one, other]}, 'todo-frontend:c-0123456789ab')).toBeUndefined()
    expect(nodesListing(null, 'todo-frontend:c-0123456789ab')).toBeUndefined()
    expect(nodesListing({nodes: []}, 'todo-frontend:c-0123456789ab')).toBeUndefined()
  })

  test('concurrent reads share one LIST; a failing LIST reads as null (the tool is asked instead)', async () => {
    let lists = 0
    const reader = new SharedNodeReader(async () => {
      lists++
      return {items: [recorded]}
    })
    const [a, b] = await Promise.all([reader.read(), reader.read()])
    expect(lists).toBe(1)
    expect(a).toEqual(b)
    await reader.read()
    expect(lists).toBe(2)

    const failing = new SharedNodeReader(() => Promise.reject(new Error('nodes is forbidden')))
    expect(await failing.read()).toBeNull()
  })
})
