import {defineConfig} from 'vitest/config'

// `npm run test:package`: the package `npm pack` makes, installed and run as a user runs it. Needs a
// build (the script builds first), so it runs apart from `npm test`, which runs from source and removes
// the build's oclif manifest.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    disableConsoleIntercept: true,
    testTimeout: 120_000,
    hookTimeout: 10 * 60_000,
  },
})
