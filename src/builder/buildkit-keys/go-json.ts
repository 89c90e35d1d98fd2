/**
 * JSON as Go's encoding/json writes it, for the values BuildKit hashes into
 * its cache keys (strings, numbers, booleans, arrays, objects with their
 * fields in the Go struct's order): JSON.stringify's text with the escapes
 * Go adds on top, `<` `>` `&` as \u003c \u003e \u0026 (HTML-safe) and the
 * line and paragraph separators U+2028/U+2029. Objects must be built with
 * the fields in Go's order and `omitempty` fields left out by the caller.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
