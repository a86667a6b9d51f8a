#!/usr/bin/env node
// scripts/desktop-icon.mjs: draws the tray app's 512×512 application icon
// (client-desktop/assets/icon.png, what electron-builder turns into .icns/.ico): a door
// on a dark rounded square with three knocks beside it. Run again only to change it.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const SIZE = 512;
const pixels = Buffer.alloc(SIZE * SIZE * 4);
const inRoundedSquare = (x, y, r) => {
  const cx = Math.min(Math.max(x, r), SIZE - 1 - r);
  const cy = Math.min(Math.max(y, r), SIZE - 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const door = (x, y) => {
  // A door with a round top: x 176..336, y 150..420.
  if (x < 176 || x > 336 || y > 420) return false;
  if (y >= 230) return y >= 150;
  return (x - 256) ** 2 + (y - 230) ** 2 <= 80 * 80;
};
const knob = (x, y) => (x - 306) ** 2 + (y - 300) ** 2 <= 12 * 12;
const knocks = [140, 256, 372].map((cy) => [412, cy]);
for (let y = 0; y < SIZE; y++)
  for (let x = 0; x < SIZE; x++) {
    const i = (y * SIZE + x) * 4;
    let rgba = [0, 0, 0, 0];
    if (inRoundedSquare(x, y, 96)) rgba = [31, 41, 55, 255];
    if (door(x, y)) rgba = [243, 244, 246, 255];
    if (knob(x, y)) rgba = [31, 41, 55, 255];
    if (knocks.some(([cx, cy]) => (x - cx) ** 2 + (y - cy) ** 2 <= 22 * 22))
      rgba = [52, 211, 153, 255];
    pixels.set(rgba, i);
  }

const png = encodePng(pixels, SIZE);
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'client-desktop',
  'assets',
  'icon.png',
);
writeFileSync(out, png);
process.stderr.write(`wrote ${out} (${png.length} bytes)\n`);
