/**
 * The YAML parser, loaded by a dynamic import of this file only when a
 * registries.yaml exists (the package is some 70 modules a pull or push
 * without one never needs). A dynamic import of the package itself would not
 * resolve in the packaged executable (scripts/imports.mjs refuses it); this
 * module's static import is bundled.
 */
export { parse } from 'yaml';
