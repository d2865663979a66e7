/**
 * The serial call queue of an engine and what it does under faults. A plan's buffers are reused
 * from call to call, so an engine's calls run one after another: `CallRunner.call` checks and
 * copies a call's inputs at once, then queues its work. When the work starts it first meets the
 * engine's state then: a disposed engine (EngineDisposedError), an aborted signal (its reason) or
 * a lost device (DeviceLostError) stops it before any GPU work. The runner holds the DeviceState
 * the work runs on (src/engine-device.ts); given a device provider and a CPU copy of the weights,
 * it replaces a lost state with one on a new device and retries an interrupted call once.
 */
import { closeState, deviceLoss, lostError, openOnDevice, type DeviceState } from "./engine-device";
import { DeviceLostError, EngineDisposedError } from "./errors";
import type { KernelOptions } from "./policy";
import type { GeneratorWeights } from "./weights";

/**
 * Gives the engine a device: at creation, and again after each device loss. Each call must
 * return a new, working device (for instance `() => requestFunitDevice(navigator.gpu)`).
 */
export type DeviceProvider = () => Promise<GPUDevice>;

/** Options of a single call. */
export interface CallOptions {
  /** Aborting it before the call starts runs nothing; later, the result is dropped. */
  signal?: AbortSignal;
}

/** How a call runs (see CallRunner.call). */
export interface CallRules extends CallOptions {
  /** Whether the call may run again on a new device after a loss (not with caller GPU objects). */
  retry?: boolean;
}

/** What a runner needs to move to a new device: the provider, and the weights kept on the CPU. */
export interface Recovery {
  provider: DeviceProvider;
  weights: GeneratorWeights;
}

/**
 * A call's work, given the device state it runs on (the state current when it starts, or a new
 * one on its retry after a recovered loss).
 */
export type CallWork<T> = (state: DeviceState) => Promise<T>;

export class CallRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    /** The device state in use: replaced, with a recovery, after a device loss. */
    private current: DeviceState,
    /** The engine's label, for error messages and the GPU objects of a new state. */
    private readonly label: string,
    /** The kernel options a new state is opened with (the same choice on the new device). */
    private readonly options: KernelOptions,
    private recovery?: Recovery,
  ) {}

  /** The device state in use. */
  get state(): DeviceState {
    return this.current;
  }

  /**
   * Queues a call. `prepare` runs now: it checks and copies the inputs (a bad input rejects at
   * once, and the caller may reuse its buffers) and returns the work, which runs when the calls
   * before it are done. When it starts, the work first meets the engine's state then: disposed,
   * aborted or on a lost device, it is refused before any GPU work (with a recovery, the runner
   * first moves to a new device). A failure caused by a loss during the work is retried once on a
   * new device when `retry` allows and there is a recovery.
   */
  call<T>(prepare: () => CallWork<T>, rules: CallRules = {}): Promise<T> {
    const { signal } = rules;
    if (this.disposed) return Promise.reject(this.disposedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    let work: CallWork<T>;
    try {
      work = prepare();
    } catch (e) {
      return Promise.reject(e);
    }
    const start = () => this.start(work, rules);
    const next = this.queue.then(start, start);
    this.queue = next.catch(() => undefined);
    return signal ? settleOnAbort(next, signal) : next;
  }

  /** An EngineDisposedError if the engine was disposed (for work that outlives an await). */
  throwIfDisposed(): void {
    if (this.disposed) throw this.disposedError();
  }

  /**
   * Frees the state's GPU memory and the CPU copy of the weights. Calls queued and not yet started
   * reject with an EngineDisposedError and run nothing; a call already running rejects with it as
   * well (its failure on the freed buffers is reported as the disposal).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    closeState(this.current);
    this.recovery = undefined;
  }

  private async start<T>(work: CallWork<T>, { signal, retry = true }: CallRules): Promise<T> {
    this.throwIfDisposed();
    signal?.throwIfAborted();
    await this.ensureDevice();
    try {
      return await this.attempt(work);
    } catch (e) {
      if (!(e instanceof DeviceLostError) || !this.recovery || !retry) throw e;
      await this.ensureDevice();
      return await this.attempt(work);
    }
  }

  /** Runs the work once; a failure of a disposed engine or lost device says so (typed). */
  private async attempt<T>(work: CallWork<T>): Promise<T> {
    this.throwIfDisposed();
    const state = this.current;
    try {
      return await work(state);
    } catch (e) {
      if (this.disposed) throw this.disposedError(e);
      const lost = await deviceLoss(state.device);
      if (lost && !(e instanceof DeviceLostError)) throw lostError(lost, { cause: e });
      throw e;
    }
  }

  /**
   * Makes sure the device is usable: a lost device is a DeviceLostError, or, with a recovery, is
   * replaced by a new one holding the weights again (the old state is dropped first).
   */
  private async ensureDevice(): Promise<void> {
    const lost = await deviceLoss(this.current.device);
    if (!lost) return;
    if (!this.recovery) throw lostError(lost);
    closeState(this.current);
    const { provider, weights } = this.recovery;
    let device: GPUDevice;
    try {
      device = await provider();
    } catch (e) {
      throw new DeviceLostError(
        String(lost.reason),
        `${lost.message}; the device provider failed: ${(e as Error).message ?? e}`,
        { cause: e },
      );
    }
    const state = await openOnDevice(device, weights, this.label, this.options);
    if (this.disposed) {
      closeState(state); // disposed while the new device was being set up
      throw this.disposedError();
    }
    this.current = state;
  }

  private disposedError(cause?: unknown): EngineDisposedError {
    return new EngineDisposedError(
      `${this.label}: the engine was disposed`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * The call's promise, settled early with the signal's reason if it aborts first (the engine's
 * queue still waits for the work itself, which an abort cannot stop once it runs).
 */
function settleOnAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
