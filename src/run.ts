/**
 * What bin/run.js starts: oclif's runner taken from the bundle, so that the runner, the commands and the
 * help class share one copy of @oclif/core (its Config, settings and errors are module singletons).
 */
export {execute} from '@oclif/core'
