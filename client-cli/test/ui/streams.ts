import { EventEmitter } from 'node:events';

/** A terminal stdin for ink: raw-mode capable, fed with `write` (as ink's own tests do). */
export class FakeStdin extends EventEmitter {
  isTTY: boolean;
  rawMode = false;
  private chunk: string | null = null;
  constructor(isTTY = true) {
    super();
    this.isTTY = isTTY;
  }
  write(data: string): void {
    this.chunk = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read(): string | null {
    const chunk = this.chunk;
    this.chunk = null;
    return chunk;
  }
  setRawMode(on: boolean): this {
    this.rawMode = on;
    return this;
  }
  setEncoding(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/** A terminal stdout that keeps everything written. */
export class FakeStdout extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 30;
  output = '';
  write(text: string): boolean {
    this.output += text;
    return true;
  }
}
