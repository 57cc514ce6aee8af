/** Unusable CLI input (exit code 2): its own module so that the command dispatcher (run.ts) loads nothing else. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
