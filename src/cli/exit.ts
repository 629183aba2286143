/**
 * Exit codes of the `dameso` command (sysexits-style, so scripts on a board can tell a bad flag
 * from a damaged series from a full disk).
 */
export const EXIT = {
  ok: 0,
  /** The thing checked is not sound (e.g. `series verify` found corruption). */
  unsound: 1,
  /** Bad flags or arguments. */
  usage: 64,
  /** Bad input data (not a series, malformed file). */
  dataErr: 65,
  /** A service is unavailable (broker unreachable). */
  unavailable: 69,
  internal: 70,
  /** Cannot write: disk full, read-only file system. */
  cantCreate: 73,
  ioErr: 74,
  /** Bad configuration. */
  config: 78,
  /** Stopped by Ctrl-C before the work was done (128 + SIGINT, the shell's convention). */
  interrupted: 130,
  forCode(code: string): number {
    switch (code) {
      case 'DAMESO_BAD_CONFIG':
      case 'DAMESO_PREFIX_MISMATCH':
        return EXIT.config;
      case 'DAMESO_NOT_A_SERIES':
      case 'DAMESO_SERIES_FORMAT':
      case 'DAMESO_SERIES_CORRUPT':
      case 'DAMESO_NO_CONSENSUS':
      case 'DAMESO_NO_SUCH_NODE':
        return EXIT.dataErr;
      case 'DAMESO_NO_SPACE':
      case 'DAMESO_READ_ONLY':
      case 'DAMESO_CANNOT_WRITE':
        return EXIT.cantCreate;
      case 'DAMESO_FSYNC_FAILED':
      case 'DAMESO_IO':
        return EXIT.ioErr;
      case 'DAMESO_SERIES_LOCKED':
      case 'DAMESO_ID_TAKEN':
      case 'DAMESO_BROKER_UNREACHABLE':
      case 'DAMESO_METRICS_UNREACHABLE':
      case 'DAMESO_REDIS_UNREACHABLE':
      case 'DAMESO_BROKER_LISTEN':
      case 'DAMESO_DASHBOARD_UNBUILT':
      case 'DAMESO_SERIAL_BINDING_MISSING':
      case 'DAMESO_SERIAL_LIST_FAILED':
      case 'DAMESO_SERIAL_OPEN_FAILED':
        return EXIT.unavailable;
      case 'DAMESO_USAGE':
      case 'DAMESO_BAD_PATH':
        return EXIT.usage;
      default:
        return EXIT.internal;
    }
  },
} as const;
