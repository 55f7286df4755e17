/**
 * @hocuspocus/server 3.4 with its SQLite extension (a file in HOCUS_DB), its defaults
 * otherwise: it stores a document's whole state 2 s after the last change (at most every 10 s),
 * and forwards updates before storing them. Prints `listening <port>` when ready.
 */
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';

const server = new Server({
	address: '127.0.0.1',
	port: Number(process.env.PORT ?? 0),
	quiet: true,
	extensions: [new SQLite({ database: process.env.HOCUS_DB ?? ':memory:' })]
});
await server.listen();
process.stdout.write(`listening ${server.address.port}\n`);
