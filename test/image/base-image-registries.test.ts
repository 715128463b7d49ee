import {describe, expect, it} from 'vitest'

import {baseImageRegistries} from '../../src/lib/image/base-image-registries.js'

describe('baseImageRegistries', () => {
  it('names the registries the FROM lines pull from, Docker Hub for an image without one', () => {
    const dockerfile = [
      'FROM registry.example.com/team/node:18 AS deps',
      'FROM 127.0.0.1:5000/base@sha256:0123',
      'FROM python:3.9-alpine AS builder',
      'FROM deps',
      'FROM builder',
      'FROM scratch',
      'ARG BASE=r.io/x',
      'FROM ${BASE}',
    ].join('\n')
    expect(baseImageRegistries(dockerfile)).toEqual(['registry.example.com', '127.0.0.1:5000', 'docker.io'])
  })

  it('names none for a Dockerfile built FROM scratch and its own stages', () => {
    expect(baseImageRegistries('FROM scratch AS a\nFROM a\n')).toEqual([])
  })
})
