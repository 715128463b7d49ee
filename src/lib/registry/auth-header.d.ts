declare module 'auth-header' {
  /** One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…"` → scheme and params. */
  export interface Challenge {
    scheme: string
    token: string | null
    params: Record<string, string | string[]>
  }
  export function parse(header: string): Challenge
}
