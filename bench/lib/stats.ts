// Latency histograms (mergeable across processes) and small statistics helpers.

/** Bins: 10 µs wide below 20 ms, 0.5 ms wide up to 10 s, one overflow bin above. */
const FINE_LIMIT_MS = 20;
const FINE_BINS = 2000;
const COARSE_LIMIT_MS = 10_000;
const COARSE_BINS = (COARSE_LIMIT_MS - FINE_LIMIT_MS) * 2;
const BINS = FINE_BINS + COARSE_BINS + 1;

function binOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 100);
  if (ms < COARSE_LIMIT_MS) return FINE_BINS + Math.floor((ms - FINE_LIMIT_MS) * 2);
  return BINS - 1;
}

function binValue(bin: number): number {
  if (bin < FINE_BINS) return (bin + 0.5) / 100;
  if (bin < BINS - 1) return FINE_LIMIT_MS + (bin - FINE_BINS + 0.5) / 2;
  return Number.POSITIVE_INFINITY;
}

/** A latency histogram in milliseconds. */
export class Histogram {
  readonly bins = new Uint32Array(BINS);
  count = 0;

  record(ms: number): void {
    this.bins[binOf(ms)]!++;
    this.count++;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
  }

  /** Non-empty bins as [bin, count] pairs (for IPC). */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < BINS; i++) if (this.bins[i]) out.push([i, this.bins[i]!]);
    return out;
  }

  addSparse(sparse: [number, number][]): void {
    for (const [bin, n] of sparse) {
      this.bins[bin]! += n;
      this.count += n;
    }
  }

  /** The value below which a share `q` (0..1) of the samples fall; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return binValue(i);
    }
    return binValue(BINS - 1);
  }
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Formats a number for the table: 3 significant digits, thousands kept whole. */
export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === Number.POSITIVE_INFINITY) return '>10 s';
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs === 0) return '0';
  return Number(n.toPrecision(digits)).toString();
}

export function fmtRatio(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return `${n.toFixed(2)}x`;
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
