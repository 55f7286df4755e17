/**
 * Kith's model: pure TypeScript over yjs 13. The shapes of the workspace and conversation
 * documents, the operations on them, ids, validation, readers and the projection onto the
 * seed's tables. Imported by the app and by the relay; it knows nothing of Svelte, the DOM,
 * IndexedDB or the network (eslint enforces it).
 */
export * from './schema';
export * from './errors';
export * from './origin';
export * from './ids';
export * from './validate';
export * from './conversation';
export * from './inbox';
export * from './workspace';
export * from './read';
export * from './records';
export * from './projection';
export * from './array-changes';
export * from './changes';
export * from './identity';
export * from './append-list';
export * from './view';
export * from './blob-refs';
export * from './mentions';
export * from './search-text';
