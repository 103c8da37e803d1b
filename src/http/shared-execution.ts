import {
  createSourceEventStream,
  execute,
  parse,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  type Source,
} from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * What makes a fan-out cheap: one user's sockets usually send the same
 * subscription text, and every one of them receives the same event object.
 * So the document is parsed and validated once (not once per socket, which
 * also kept one AST alive per socket), and each event is executed once per
 * document and variables, not once per socket.
 *
 * Sharing an event's result is sound because the sockets that receive one
 * event object all belong to the user it is about (the hub dispatches by
 * user) and the event's fields resolve from the event alone, never from the
 * caller's context.
 */
export interface SharedExecution {
  parse(source: string | Source): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

export function sharedExecution(
  rules: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[],
  /** Distinct documents kept parsed. @default 1_000 */
  maxDocuments = 1_000,
): SharedExecution {
  const documents = new LRUCache<string, DocumentNode>({ max: maxDocuments });
  const validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  /** Per event object: results by document and variables; gone with the event. */
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult>>>>();

  const executeOnce = (args: ExecutionArgs, event: unknown): Promise<ExecutionResult> => {
    const run = async () => execute({ ...args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>;
    if (typeof event !== 'object' || event === null) return run();
    let byDocument = results.get(event);
    if (!byDocument) results.set(event, (byDocument = new WeakMap()));
    let byVariables = byDocument.get(args.document);
    if (!byVariables) byDocument.set(args.document, (byVariables = new Map()));
    const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    let result = byVariables.get(key);
    if (!result) byVariables.set(key, (result = run()));
    return result;
  };

  return {
    parse(source) {
      if (typeof source !== 'string') return parse(source);
      let document = documents.get(source);
      if (!document) documents.set(source, (document = parse(source)));
      return document;
    },
    validate(schema, document) {
      let errors = validated.get(document);
      if (!errors) validated.set(document, (errors = rules(schema, document)));
      return errors;
    },
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
