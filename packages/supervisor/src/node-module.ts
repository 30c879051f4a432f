/**
 * node:module, loaded when first needed: loading it loads part of node's ES module loader and its source-map
 * support, which then stay in the master for its whole life, and the master's start needs none of it.
 */
export const nodeModule = () => process.getBuiltinModule('node:module');
