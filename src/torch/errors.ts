/**
 * Error classes of the PyTorch checkpoint readers. Every problem found in an input file (truncation,
 * a bad zip record, a refused pickle opcode or global, a tensor that does not fit its storage) is
 * thrown as one of these, so callers can tell "this file is bad" from a bug in the reader itself.
 */

/** A checkpoint file that cannot be read as a PyTorch state dict; the message names the problem. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** A malformed zip archive or zip entry (torch >= 1.6 checkpoints are zip files). */
export class ZipError extends CheckpointError {
  override name = "ZipError";
}

/**
 * A pickle that is malformed or asks for something the data-only reader refuses. `truncated` is set
 * when the input simply ended early, so a caller reading from a growing window can try a larger one.
 */
export class PickleError extends CheckpointError {
  override name = "PickleError";
  constructor(message: string, readonly truncated = false) {
    super(message);
  }
}
