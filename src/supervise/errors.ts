import { DamesoError } from '../errors.js';

/** The supervision record cannot be written: the data folder is not writable (exit 73). */
export class DataFolderUnwritableError extends DamesoError {
  constructor(dataDir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      code === 'ENOSPC' ? 'DAMESO_NO_SPACE' : 'DAMESO_CANNOT_WRITE',
      `cannot write the data folder ${dataDir} (${code ?? (cause instanceof Error ? cause.message : String(cause))}): ` +
        'check --data (a folder, on a writable file system with free space, owned by the user the node runs as)',
      { cause },
    );
  }
}
