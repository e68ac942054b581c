// Keeps the k smallest distances seen, for exact scans and for merging exact and graph results.
export interface Scored {
  label: number;
  distance: number;
}

export class TopK {
  private readonly items: Scored[] = [];

  constructor(private readonly k: number) {}

  get worst(): number {
    return this.items.length < this.k ? Infinity : this.items[this.items.length - 1]!.distance;
  }

  offer(label: number, distance: number): void {
    if (this.k <= 0 || distance >= this.worst) return;
    let i = this.items.length;
    if (i === this.k) this.items.pop();
    i = this.items.length;
    while (i > 0 && this.items[i - 1]!.distance > distance) i--;
    this.items.splice(i, 0, { label, distance });
  }

  sorted(): Scored[] {
    return this.items;
  }
}
