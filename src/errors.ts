/**
 * Every error class the engine throws on purpose, in one place. Each says whose fault a failure is,
 * so callers (and the CLI's exit codes) can tell them apart with `instanceof`: InputError for a bad
 * image, tensor, option or command line; DeviceError for a missing feature, a limit or a lost device
 * (DeviceLostError, with the loss reason); EngineDisposedError for a call on a disposed engine;
 * ModelFormatError, SafetensorsError and CheckpointError (ZipError, PickleError) for files that
 * cannot be read as a FUNIT generator. Anything else escaping the engine is a bug in it.
 */

/** A bad input to a call: its message says which input and what is wrong. */
export class InputError extends Error {
  override name = "InputError";
}

/** A mistake in the command line; printed with a pointer to the command's help. */
export class UsageError extends InputError {
  override name = "UsageError";
}

/** The WebGPU device cannot do what was asked: no adapter, a missing feature, a limit, a loss. */
export class DeviceError extends Error {
  override name = "DeviceError";
}

/**
 * The engine's device was lost (`reason` is GPUDeviceLostInfo.reason: "destroyed" or "unknown")
 * and no device provider could replace it. The message carries the implementation's own words.
 */
export class DeviceLostError extends DeviceError {
  override name = "DeviceLostError";
  constructor(
    readonly reason: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`the WebGPU device was lost (${reason})${detail ? `: ${detail}` : ""}`, options);
  }
}

/**
 * A call on an engine after dispose(), or queued before it and not yet started: it ran nothing
 * and holds nothing on the GPU.
 */
export class EngineDisposedError extends Error {
  override name = "EngineDisposedError";
}

/** Weights or hyperparameters that do not make a FUNIT generator. */
export class ModelFormatError extends Error {
  override name = "ModelFormatError";
}

/** A malformed safetensors file. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

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
  constructor(
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}
