/**
 * The libhipl-style API's logger: one line per message, filtered by the level given to
 * `hiplLibInitAll`, written to stderr unless the program supplies its own sink.
 * @module
 */
import { HIPL_LIB_LOG_DEBUG, HIPL_LIB_LOG_ERROR, HIPL_LIB_LOG_INFO, HIPL_LIB_LOG_NONE, type HiplLibLogLevel } from './constants.js';

/** Where log lines go. */
export type HiplLogSink = (line: string) => void;

const NAMES: Record<number, string> = { [HIPL_LIB_LOG_DEBUG]: 'debug', [HIPL_LIB_LOG_INFO]: 'info', [HIPL_LIB_LOG_ERROR]: 'error' };

/** A level-filtered logger. */
export class HiplLogger {
  level: HiplLibLogLevel = HIPL_LIB_LOG_NONE;
  sink: HiplLogSink = (line) => process.stderr.write(`${line}\n`);

  /** Whether messages of `level` are written. */
  enabled(level: HiplLibLogLevel): boolean {
    return this.level !== HIPL_LIB_LOG_NONE && level >= this.level && level !== HIPL_LIB_LOG_NONE;
  }

  /** Detailed tracing. */
  debug(msg: string): void {
    this.write(HIPL_LIB_LOG_DEBUG, msg);
  }

  /** BEX progress and association changes. */
  info(msg: string): void {
    this.write(HIPL_LIB_LOG_INFO, msg);
  }

  /** Failures. */
  error(msg: string): void {
    this.write(HIPL_LIB_LOG_ERROR, msg);
  }

  private write(level: HiplLibLogLevel, msg: string): void {
    if (this.enabled(level)) this.sink(`hipl ${NAMES[level] ?? ''}: ${msg}`);
  }
}
