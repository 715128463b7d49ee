import {describe, expect, it} from 'vitest'

import {parseQuantity} from '../../src/lib/rules/index.js'

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['0.5', 0.5],
    ['1', 1],
    [2, 2],
    ['1500m', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['500M', 5e8],
    ['64Ki', 65536],
    ['1e3', 1000],
    ['1E', 1e18],
  ])('reads %s as %d', (quantity, expected) => {
    expect(parseQuantity(quantity)).toBeCloseTo(expected, 9)
  })

  it.each(['', 'abc', '1 Gi', '1GB', '--1', '1mi'])('rejects %j', (quantity) => {
    expect(parseQuantity(quantity)).toBeUndefined()
  })
})
