/**
 * A raw `ws` echo server: every frame straight back to its sender. The fastest any relay could
 * answer on this machine. Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((_req, res) => res.end('echo'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
	ws.on('error', () => {});
	ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
	const addr = server.address();
	process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
