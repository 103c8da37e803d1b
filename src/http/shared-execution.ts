import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * What makes a fan-out cheap: one user's sockets usually send the same
 * subscription text, and every one of them receives the same event object.
 * So the document is parsed and checked once (the websocket server keeps the
 * documents by text), and each event is executed once per document and
 * variables, not once per socket.
 *
 * Sharing an event's result is sound because the sockets that receive one
 * event object all belong to the user it is about (the hub dispatches by
 * user) and the event's fields resolve from the event alone, never from the
 * caller's context.
 */
export interface SharedExecution {
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/** The event each shared result was executed for (see `sourceEventOf`). */
const sources = new WeakMap<ExecutionResult, object>();

/**
 * The source event a subscription result was executed from, whatever fields
 * the client selected: the transport decides whether the event ends the
 * socket from the event itself, not from the result's fields.
 */
export function sourceEventOf(result: ExecutionResult): object | undefined {
  return sources.get(result);
}

export function sharedExecution(): SharedExecution {
  /** Per event object: results by document and variables; gone with the event. */
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult>>>>();

  const executeOnce = (args: ExecutionArgs, event: unknown): Promise<ExecutionResult> => {
    const run = async () => {
      const result = await (execute({ ...args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>);
      if (typeof event === 'object' && event !== null) sources.set(result, event);
      return result;
    };
    if (typeof event !== 'object' || event === null) return run();
    let byDocument = results.get(event);
    if (!byDocument) results.set(event, (byDocument = new WeakMap()));
    let byVariables = byDocument.get(args.document);
    if (!byVariables) byDocument.set(args.document, (byVariables = new Map<string, Promise<ExecutionResult>>()));
    const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    let result = byVariables.get(key);
    if (!result) byVariables.set(key, (result = run()));
    return result;
  };

  return {
    async subscribe(args) {
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in source)) return source;
      return mapEvents(source[Symbol.asyncIterator](), (event) => executeOnce(args, event));
    },
  };
}

/**
 * Maps a source stream; `return()` reaches the source at once (an async
 * generator would first wait for the next event, holding its listener).
 */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  const done = { value: undefined, done: true } as const;
  return {
    async next() {
      const next = await source.next();
      return next.done ? done : { value: await map(next.value), done: false };
    },
    async return() {
      await source.return?.(undefined);
      return done;
    },
    async throw(error: unknown) {
      await source.return?.(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
