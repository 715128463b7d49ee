// node-fetch 2 (under client-node) takes `URL` from node:url and falls back to whatwg-url's only where
// Node has none; every Node this CLI supports has one, so the bundle leaves out whatwg-url and its
// 250 KiB Unicode mapping table (tr46), which every command would otherwise parse at start.
export const URL = globalThis.URL
export default {URL}
