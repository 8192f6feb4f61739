/** A counting semaphore: at most `n` holders (≤ 4 concurrent flushes, destination-delta.md §4). */
export class Semaphore {
  private waiting: (() => void)[] = [];
  private held = 0;

  constructor(private readonly n: number) {}

  async acquire(): Promise<() => void> {
    if (this.held >= this.n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    };
  }

  get active(): number {
    return this.held;
  }
}
