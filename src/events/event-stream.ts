/**
 * An async iterator fed by pushes, whose `return()` ends it at once even while
 * a consumer waits (an async generator would wait for its next event first,
 * leaking the listener of every closed subscription).
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private finished = false;

  constructor(
    private readonly onClose: () => void,
    /** A consumer this far behind is cut off rather than let memory grow without bound. */
    private readonly maxBuffered = 1_000,
  ) {}

  push(value: T): void {
    if (this.finished) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
    } else if (this.buffer.length >= this.maxBuffered) {
      void this.return();
    } else {
      this.buffer.push(value);
    }
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.finished) {
      this.finished = true;
      this.buffer.length = 0;
      this.onClose();
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
