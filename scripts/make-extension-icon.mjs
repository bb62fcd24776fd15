// Draws media/owp-icon.png (128×128, the Marketplace/Open VSX icon) from the same shapes as
// media/owp-activity.svg: a hub with three volunteers around it. No image tools needed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const scale = SIZE / 24;
const background = [31, 41, 55];
const ink = [94, 234, 212];

const rings = [
  [12, 12, 3.2],
  [12, 3.6, 1.8],
  [19.3, 16.2, 1.8],
  [4.7, 16.2, 1.8],
];
const lines = [
  [12, 5.4, 12, 8.8],
  [17.7, 15.3, 14.7, 13.6],
  [6.3, 15.3, 9.3, 13.6],
];
const stroke = 1.6 / 2;

function segmentDistance(px, py, [x1, y1, x2, y2]) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

function coverage(px, py) {
  let d = Infinity;
  for (const [cx, cy, r] of rings) d = Math.min(d, Math.abs(Math.hypot(px - cx, py - cy) - r));
  for (const line of lines) d = Math.min(d, segmentDistance(px, py, line));
  return Math.max(0, Math.min(1, (stroke - d) * scale + 0.5));
}

function roundedSquare(px, py) {
  const r = 4;
  const qx = Math.abs(px - 12) - (12 - r);
  const qy = Math.abs(py - 12) - (12 - r);
  const d = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  return Math.max(0, Math.min(1, -d * scale + 0.5));
}

const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y += 1) {
  raw[y * (SIZE * 4 + 1)] = 0;
  for (let x = 0; x < SIZE; x += 1) {
    // Shapes are drawn at 80% around the centre so the icon has a margin.
    const px = 12 + ((x + 0.5) / scale - 12) / 0.8;
    const py = 12 + ((y + 0.5) / scale - 12) / 0.8;
    const a = coverage(px, py);
    const o = y * (SIZE * 4 + 1) + 1 + x * 4;
    for (let c = 0; c < 3; c += 1) raw[o + c] = Math.round(background[c] * (1 - a) + ink[c] * a);
    raw[o + 3] = Math.round(255 * roundedSquare((x + 0.5) / scale, (y + 0.5) / scale));
  }
}

const table = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header[8] = 8; // bit depth
header[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('../media/owp-icon.png', import.meta.url), png);
console.log(`media/owp-icon.png: ${png.length} bytes`);
