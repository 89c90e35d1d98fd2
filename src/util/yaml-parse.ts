/**
 * The YAML parser, for modules that load it only when they need it:
 * a dynamic import of this file. A dynamic import of the package itself
 * stays an ES module import() in the packaged executable's CommonJS bundle,
 * which a single executable cannot resolve (it fails there, silently where
 * the caller falls back); a dynamic import of this module is bundled, and
 * its static import becomes the loader's require of the yaml bundle.
 */
export { parse } from 'yaml';
