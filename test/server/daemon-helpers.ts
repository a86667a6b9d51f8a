// Moved to test/helpers/daemon.ts with the other lab helpers; this path stays for branches that
// still import it.
export * from '../helpers/daemon.js';
