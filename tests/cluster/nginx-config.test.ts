/** The README's nginx configuration is the file the cluster tests run nginx with. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Directives only: comments and blank lines dropped, whitespace trimmed. */
const directives = (text: string) =>
	text
		.split('\n')
		.map((l) => l.replace(/#.*$/, '').trim())
		.filter((l) => l !== '');

describe('deploy/nginx.conf', () => {
	it('is what the README shows under "Running several relays"', () => {
		const readme = readFileSync('README.md', 'utf8');
		const section = readme.slice(readme.indexOf('### Running several relays'));
		const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
		expect(block, 'an nginx block in the section').toBeDefined();
		expect(directives(block!)).toEqual(directives(readFileSync('deploy/nginx.conf', 'utf8')));
	});
});
