/**
 * Distinct, incompressible test images made with sharp from random noise, so
 * every upload has a new hash and a realistic size on disk.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

export interface JpegRecipe {
  width: number;
  height: number;
  quality: number;
}

async function noiseJpeg(r: JpegRecipe): Promise<Buffer> {
  const raw = randomBytes(r.width * r.height * 3);
  return sharp(raw, { raw: { width: r.width, height: r.height, channels: 3 } }).jpeg({ quality: r.quality }).toBuffer();
}

/**
 * Finds the JPEG quality (binary search, 400x300 noise, larger sides if even
 * quality 100 falls short) whose output lands nearest `targetBytes`.
 */
export async function tuneJpeg(targetBytes: number): Promise<JpegRecipe> {
  let width = 400;
  let height = 300;
  while ((await noiseJpeg({ width, height, quality: 100 })).length < targetBytes) {
    width = Math.round(width * 1.25);
    height = Math.round(height * 1.25);
  }
  let lo = 1;
  let hi = 100;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await noiseJpeg({ width, height, quality: mid })).length < targetBytes) lo = mid + 1;
    else hi = mid;
  }
  const above = { width, height, quality: lo };
  const below = { width, height, quality: Math.max(1, lo - 1) };
  const [a, b] = [(await noiseJpeg(above)).length, (await noiseJpeg(below)).length];
  return Math.abs(a - targetBytes) <= Math.abs(b - targetBytes) ? above : below;
}

/** `count` distinct noise JPEGs made with one recipe. */
export async function makeJpegs(recipe: JpegRecipe, count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(await noiseJpeg(recipe));
  return out;
}

/** A small real PNG (random noise, so each run's file hash differs). */
export async function noisePng(width = 64, height = 64): Promise<Buffer> {
  const raw = randomBytes(width * height * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
