import { ClientBench, searchScenario } from './scenarios.ts';
const b = new ClientBench();
try {
	const t = Date.now();
	await b.device(100000);
	console.log('device', Date.now() - t);
	console.log(JSON.stringify(await searchScenario(b, { messages: 100000, queries: 10 })));
} finally {
	await b.close();
}
