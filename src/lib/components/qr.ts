/**
 * QR codes as images. `qrcode` (soldair/node-qrcode) is the most used QR encoder on npm, kept
 * up for a decade, and renders SVG without a canvas, so the same call works in the browser and
 * in tests. An SVG in a data URL is an ordinary `<img>` with alt text.
 */
import QRCode from 'qrcode';

/** An image URL (SVG) of a QR code holding `text`. */
export async function qrImageUrl(text: string): Promise<string> {
	const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
	return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
