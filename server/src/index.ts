export * from './firewall/index.js';
