// NODE_EXTRA_CA_CERTS in the packaged executable, whose node does not read it
// at start (scripts/lib/lazy-extra-ca.mjs): the loader (scripts/sea-loader.cjs)
// calls `install` before kiln's code or a dependency first gets node:tls,
// node:https or node:http2, or calls fetch. From then on every TLS context
// made without a `ca` of its own (the registry client's, the Kubernetes client's, fetch's)
// has the file's certificates beside node's own roots — what node does with
// the variable itself; one that names its `ca` (a registry's ca_file, the
// agent's mutual TLS) has only that, as with node. The file is read once, at
// the first such context; a file that cannot be read gets node's own warning
// and is left out, as node does.
'use strict';

/** Makes node:tls add the certificates of FILE to contexts without a `ca`. */
module.exports = function extraCa(require, file) {
  let installed = false;
  let pem;
  const certificates = () => {
    if (pem === undefined) {
      try {
        pem = require('node:fs').readFileSync(file);
      } catch (e) {
        process.stderr.write(`Warning: Ignoring extra certs from \`${file}\`, load failed: ${e.message}\n`);
        pem = null;
      }
    }
    return pem;
  };
  return function install() {
    if (installed) return;
    installed = true;
    const tls = require('node:tls');
    const create = tls.createSecureContext;
    tls.createSecureContext = function createSecureContext(options) {
      const context = create.call(this, options);
      // As node: its roots and the extra certificates unless the caller names its own.
      if (!options?.ca) {
        const extra = certificates();
        if (extra) context.context.addCACert(extra);
      }
      return context;
    };
  };
};
