/**
 * Opening documents: from IndexedDB first (instant, no network), then the relay. Imports the
 * model and the index only (eslint enforces it).
 */
export * from './delivery';
export * from './local-doc';
export * from './open-conversation';
export * from './tab-sync';
export { deleteStoredDoc, storedDocBytes } from './idb';
export * from './holdings';
