/**
 * The responder's puzzle difficulty under load (RFC 7401 §4.1.1): when many I2s reach the
 * expensive DH step, K rises so each further attempt costs the initiators more work; when the
 * load is gone, K falls back to the configured difficulty.
 * @module
 */
import type { PuzzleConfig } from './config.js';

/** Bits K rises by when a one-second window reaches the load threshold. */
const RAISE_BITS = 2;

/** Counts DH work per one-second window and derives the K to issue. */
export class PuzzleLoad {
  private windowStart = -Infinity;
  private count = 0;
  private raised = false;
  /** Bits above the configured difficulty. */
  private extra = 0;

  constructor(private readonly cfg: PuzzleConfig) {}

  /** The difficulty K to issue at `now`. */
  difficulty(now: number): number {
    this.roll(now);
    return this.cfg.difficulty + this.extra;
  }

  /** True while K is raised above the configured difficulty. */
  underLoad(now: number): boolean {
    this.roll(now);
    return this.extra > 0;
  }

  /** Count one DH computation for an I2 (the work the puzzle protects). */
  noteDh(now: number): void {
    this.roll(now);
    this.count++;
    if (!this.cfg.adaptive || this.raised || this.count < this.cfg.loadThreshold) return;
    this.raised = true;
    this.extra = Math.min(this.extra + RAISE_BITS, Math.max(0, this.cfg.maxAdaptiveDifficulty - this.cfg.difficulty));
  }

  /** Start a new window when the current one is over; quiet windows lower K one bit each. */
  private roll(now: number): void {
    if (now >= this.windowStart && now - this.windowStart < 1000) return;
    const elapsed = this.windowStart === -Infinity || now < this.windowStart ? 1 : Math.floor((now - this.windowStart) / 1000);
    // The window that just ended counts as quiet below a quarter of the threshold; every
    // further whole window that passed had no DH work at all.
    const quiet = this.count < this.cfg.loadThreshold / 4 ? elapsed : elapsed - 1;
    this.extra = Math.max(0, this.extra - quiet);
    this.windowStart = now;
    this.count = 0;
    this.raised = false;
  }
}
