/** A feed or VEX document that cannot be used; the message says what is wrong and where. */
export class FeedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFormatError';
  }
}
