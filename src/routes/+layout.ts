// Kith is a single-page app: the device holds the data, so nothing renders on a server.
export const ssr = false;
export const prerender = false;
