/**
 * Kith's local relational index (Dexie): tables that mirror the seed, kept in step with the
 * conversation documents by {@link ConversationIndexer}, plus attachment bytes and settings.
 * Imports only the model (eslint enforces it).
 */
export * from './database';
export * from './rows';
export * from './shape';
export * from './queries';
export * from './blobs';
export * from './indexer';
export * from './uploads';
export * from './page';
export * from './search';
