/**
 * Draws Kith's app icons (a white "K" on the accent colour of src/app.css) into static/ as
 * PNG, with nothing but Node: a tiny rasteriser with 4×4 supersampling and a PNG encoder on
 * node:zlib. Run `node --import tsx scripts/pwa-icons.ts` after changing the design.
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const ACCENT: [number, number, number] = [0x3a, 0x4f, 0xd0];
const WHITE: [number, number, number] = [0xff, 0xff, 0xff];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
	let c = 0xffffffff;
	for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'ascii');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
	return Buffer.concat([head, data, crc]);
}

function png(size: number, rgba: Uint8Array): Buffer {
	const header = Buffer.alloc(13);
	header.writeUInt32BE(size, 0);
	header.writeUInt32BE(size, 4);
	header[8] = 8; // bit depth
	header[9] = 6; // RGBA
	const raw = Buffer.alloc(size * (size * 4 + 1));
	for (let y = 0; y < size; y++) {
		raw[y * (size * 4 + 1)] = 0; // filter: none
		raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', header),
		chunk('IDAT', deflateSync(raw, { level: 9 })),
		chunk('IEND', new Uint8Array())
	]);
}

/** Distance from p to the segment a–b. */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number) {
	const dx = bx - ax;
	const dy = by - ay;
	const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
	return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** The "K", in a unit square. */
function inGlyph(x: number, y: number): boolean {
	if (y < 0.25 || y > 0.75) return false;
	if (x >= 0.31 && x <= 0.43) return true;
	if (x < 0.43) return false;
	return (
		segmentDistance(x, y, 0.4, 0.6, 0.7, 0.2) <= 0.062 ||
		segmentDistance(x, y, 0.5, 0.47, 0.74, 0.8) <= 0.066
	);
}

/** Inside a square with rounded corners of radius r (unit square). */
function inRoundedSquare(x: number, y: number, r: number): boolean {
	const cx = Math.min(Math.max(x, r), 1 - r);
	const cy = Math.min(Math.max(y, r), 1 - r);
	return Math.hypot(x - cx, y - cy) <= r;
}

/**
 * `maskable`: full-bleed background, the glyph inside the central safe zone (a circle of 80 %).
 * Otherwise a rounded square on transparency (`opaque` fills the corners, for Apple).
 */
function draw(size: number, options: { maskable?: boolean; opaque?: boolean } = {}): Buffer {
	const SS = 4;
	const glyphScale = options.maskable ? 0.78 : 1;
	const out = new Uint8Array(size * size * 4);
	for (let py = 0; py < size; py++) {
		for (let px = 0; px < size; px++) {
			let bg = 0;
			let fg = 0;
			for (let sy = 0; sy < SS; sy++) {
				for (let sx = 0; sx < SS; sx++) {
					const x = (px + (sx + 0.5) / SS) / size;
					const y = (py + (sy + 0.5) / SS) / size;
					const full = options.maskable || options.opaque;
					if (!full && !inRoundedSquare(x, y, 0.22)) continue;
					bg++;
					const gx = (x - 0.5) / glyphScale + 0.5;
					const gy = (y - 0.5) / glyphScale + 0.5;
					if (inGlyph(gx, gy)) fg++;
				}
			}
			const n = SS * SS;
			const i = (py * size + px) * 4;
			const f = bg ? fg / bg : 0;
			for (let c = 0; c < 3; c++) out[i + c] = Math.round(ACCENT[c]! * (1 - f) + WHITE[c]! * f);
			out[i + 3] = Math.round((255 * bg) / n);
		}
	}
	return png(size, out);
}

const dir = new URL('../static/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), draw(192));
writeFileSync(new URL('icon-512.png', dir), draw(512));
writeFileSync(new URL('icon-maskable-512.png', dir), draw(512, { maskable: true }));
writeFileSync(new URL('apple-touch-icon.png', dir), draw(180, { opaque: true }));
writeFileSync(new URL('favicon.png', dir), draw(48));
