// Typed arrays over resizable ArrayBuffers: the address space for the largest size is
// reserved up front, pages are committed as the array grows and given back to the
// system as soon as it shrinks. Growing never copies and never leaves the old array
// behind for the garbage collector, so a table that grows to a million entries and
// back costs no pause and no memory afterwards. Where resizable buffers are missing
// (or the reservation fails), plain typed arrays are reallocated instead.

export type GrowableArray = Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array;

interface GrowableConstructor<T extends GrowableArray> {
  new (buffer: ArrayBuffer): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** ES2024's resizable ArrayBuffer (Node ≥ 20), typed here because the project targets ES2023. */
interface ResizableArrayBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}

const Resizable = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;

/** An empty array that can grow to `maxLength` elements (it tracks its buffer's length). */
export function growableArray<T extends GrowableArray>(
  type: GrowableConstructor<T>,
  maxLength: number,
): T {
  try {
    return new type(new Resizable(0, { maxByteLength: maxLength * type.BYTES_PER_ELEMENT }));
  } catch {
    return new type(0);
  }
}

/**
 * `array` with `length` elements: the first `keep` elements are kept (new ones are 0),
 * or `replacement` is written at the start. Returns the same array when its buffer can
 * be resized (always do `a = resizeArray(a, …)`), a new one otherwise.
 */
export function resizeArray<T extends GrowableArray>(
  array: T,
  length: number,
  keep: number,
  replacement?: T,
): T {
  const buffer = array.buffer as ResizableArrayBuffer;
  const bytes = length * array.BYTES_PER_ELEMENT;
  const needed = Math.max(bytes, (replacement?.length ?? 0) * array.BYTES_PER_ELEMENT);
  if (buffer.resizable === true && needed <= buffer.maxByteLength) {
    let kept = keep;
    if (replacement !== undefined) {
      if (array.length < replacement.length) buffer.resize(needed);
      array.set(replacement);
      kept = replacement.length;
    }
    // As with a fresh array, what was not kept reads 0 (pages added by a resize are 0).
    if (kept < length && kept < array.length) array.fill(0, kept, Math.min(length, array.length));
    buffer.resize(bytes);
    return array;
  }
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(replacement ?? array.subarray(0, Math.min(keep, length)));
  return next;
}

/** Whether `array` grows in place (tests, memory accounting). */
export function isGrowable(array: GrowableArray): boolean {
  return (array.buffer as ResizableArrayBuffer).resizable === true;
}
