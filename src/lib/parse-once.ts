/**
 * Options for a zod parse that runs once or twice per process (a config file, a record read from the
 * cluster): on its first parse zod compiles each object schema into a specialized parser with
 * `new Function`, which costs a CLI run far more (5-20 ms for the config) than the parse it speeds up.
 * The result and the issues are the same either way.
 */
export const PARSE_ONCE = {jitless: true} as const
