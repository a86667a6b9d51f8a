// @knock/shared/node: the Node I/O half of shared (sockets, files, locks).
export {};
