// Moved to test/helpers/lab-services.ts with the other lab helpers; this path stays for branches that
// still import it.
export * from '../helpers/lab-services.js';
