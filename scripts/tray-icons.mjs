#!/usr/bin/env node
// scripts/tray-icons.mjs: draws the tray icon's states as 32×32 PNGs (2× for HiDPI panels,
// Electron scales them): idle, knocking, open, failed, each for a light panel (a dark
// door) and a dark panel (a light door), into client-desktop/assets/tray-STATE-PANEL.png.
// A door with a round top; the state is a badge in the lower right corner: none (idle),
// three dots (knocking), a green disc (open), a red cross (failed). Anti-aliased by 4×4
// supersampling. Run again only to change them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const SIZE = 32;
const SS = 4;
const STATES = ['idle', 'knocking', 'open', 'failed'];
const PANELS = { light: [31, 41, 55], dark: [243, 244, 246] };
const GREEN = [34, 197, 94];
const RED = [239, 68, 68];
const AMBER = [245, 158, 11];

// Shapes in a 32-unit space; each returns true when (x, y) is inside.
const door = (x, y) => {
  if (x < 6 || x > 20 || y > 29) return false;
  if (y >= 11) return y >= 4;
  return (x - 13) ** 2 + (y - 11) ** 2 <= 7 * 7;
};
const doorHole = (x, y) => {
  // The door's panel, so it reads as a door and not a blob.
  if (x < 8.5 || x > 17.5 || y > 27) return false;
  if (y >= 11.5) return true;
  return (x - 13) ** 2 + (y - 11.5) ** 2 <= 4.5 * 4.5;
};
const knob = (x, y) => (x - 15.5) ** 2 + (y - 19) ** 2 <= 1.3 ** 2;
const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const badgeRing = disc(24.5, 24.5, 7.5);
const badges = {
  idle: () => undefined,
  knocking: (x, y) =>
    [18.5, 24.5, 30.5].some((cx) => disc(cx - 0.5, 24.5, 2.4)(x, y)) ? AMBER : undefined,
  open: (x, y) => (disc(24.5, 24.5, 6)(x, y) ? GREEN : undefined),
  failed: (x, y) => {
    if (!disc(24.5, 24.5, 6)(x, y)) return undefined;
    const u = x - 24.5;
    const v = y - 24.5;
    const onCross = Math.abs(u - v) < 1.4 || Math.abs(u + v) < 1.4;
    return onCross && Math.abs(u) < 3.6 && Math.abs(v) < 3.6 ? [255, 255, 255] : RED;
  },
};

function draw(state, panel) {
  const ink = PANELS[panel];
  const pixels = Buffer.alloc(SIZE * SIZE * 4);
  for (let py = 0; py < SIZE; py++)
    for (let px = 0; px < SIZE; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SS; sy++)
        for (let sx = 0; sx < SS; sx++) {
          const x = px + (sx + 0.5) / SS;
          const y = py + (sy + 0.5) / SS;
          let color;
          const badge = badges[state](x, y);
          if (badge) color = badge;
          else if (state !== 'idle' && state !== 'knocking' && badgeRing(x, y)) color = undefined;
          else if (
            door(x, y) &&
            !(doorHole(x, y) && !knob(x, y)) &&
            !(state === 'knocking' && badgeRing(x, y) && y > 21)
          )
            color = ink;
          else if (knob(x, y)) color = ink;
          if (!color) continue;
          r += color[0];
          g += color[1];
          b += color[2];
          a += 1;
        }
      const i = (py * SIZE + px) * 4;
      const n = SS * SS;
      if (a > 0)
        pixels.set(
          [Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / n)],
          i,
        );
    }
  return encodePng(pixels, SIZE);
}

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'client-desktop', 'assets');
mkdirSync(dir, { recursive: true });
for (const state of STATES)
  for (const panel of Object.keys(PANELS)) {
    const file = join(dir, `tray-${state}-${panel}.png`);
    writeFileSync(file, draw(state, panel));
    console.log(`wrote ${file}`);
  }
