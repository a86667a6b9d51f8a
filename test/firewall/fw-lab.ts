// Moved to test/helpers/fw-lab.ts with the other lab helpers; this path stays for branches that
// still import it.
export * from '../helpers/fw-lab.js';
