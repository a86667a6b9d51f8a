/**
 * ipaddr.js, loaded with require(), not `import`. It is CommonJS: an ESM import of it
 * runs Node's cjs-module-lexer over its 38 KB to find its named exports, enough work for
 * V8 to optimize the lexer itself, and the daemon kept about 1.4 MB of resident memory
 * from that for nothing (README "Memory of the whole process tree").
 */
import { createRequire } from 'node:module';
import type * as IpAddr from 'ipaddr.js';

export type { IPv4, IPv6 } from 'ipaddr.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;
export default ipaddr;
