/** The shape every benchmark returns, and how its lines are printed. */

/** One target from the brief (≥ 0.8× nginx, RSS < 256 MB...) and whether it was met. */
export interface TargetCheck {
  label: string;
  met: boolean;
  /** The measured figure, as printed. */
  measured: string;
}

export interface BenchOutcome {
  /** Headline figures, one line each (also printed as the run goes). */
  figures: string[];
  /** Ratios against the anchor measured in the same run. */
  ratios: string[];
  targets: TargetCheck[];
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchOutcome>;
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Prints a step of a long phase on the same terminal line (a plain line when not a TTY). */
export function progress(line: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r  ${line}\x1b[K`);
  else process.stdout.write(`  ${line}\n`);
}

export function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}

export function target(label: string, met: boolean, measured: string): TargetCheck {
  return { label, met, measured };
}

export function printTargets(targets: readonly TargetCheck[]): void {
  for (const t of targets) say(`  target ${t.label}: ${t.measured} -> ${t.met ? 'MET' : 'MISSED'}`);
}
