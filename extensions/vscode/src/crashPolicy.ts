/**
 * When the language server dies: restart it, with a notice, unless it died too often lately.
 * The clock is passed in so the policy is unit-tested without waiting.
 */
export interface CrashDecision {
  restart: boolean;
  message: string;
}

export class CrashPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly maxRestarts = 5,
    private readonly windowMs = 3 * 60 * 1000,
  ) {}

  /** Records a crash at `now` (ms) and says whether to restart. */
  onCrash(now: number): CrashDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n <= this.maxRestarts) {
      return { restart: true, message: `The Showrunner language server stopped unexpectedly; restarting it (${n}/${this.maxRestarts}).` };
    }
    const minutes = Math.round(this.windowMs / 60000);
    return {
      restart: false,
      message: `The Showrunner language server crashed ${n} times in ${minutes} minute${minutes === 1 ? "" : "s"} and was not restarted. See the "Showrunner" output, then run "Showrunner: Restart Server".`,
    };
  }

  reset(): void {
    this.crashes = [];
  }
}
