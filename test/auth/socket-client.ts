import { connectedClient } from '../support/ws-client.js';

export interface SocketResult {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
  /** Set when the socket closed before the operation completed. */
  readonly closedWith?: number;
}

export interface OpenSocket {
  /** Runs one query or mutation over this socket. */
  run(query: string, variables?: Record<string, unknown>): Promise<SocketResult>;
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
  readonly connected: Promise<void>;
  dispose(): Promise<void>;
}

/** A real graphql-ws client that stays open for several operations; `auth` goes in connection_init. */
export function openSocket(httpUrl: string, auth: string): OpenSocket {
  const { client, closed, connected } = connectedClient(httpUrl, auth);
  return {
    closed,
    connected,
    run(query, variables = {}) {
      return new Promise<SocketResult>((resolve) => {
        let result: SocketResult = {};
        client.subscribe(
          { query, variables },
          {
            next: (value) => (result = value as SocketResult),
            error: (error) => {
              if (Array.isArray(error)) resolve({ errors: error as SocketResult['errors'] });
              else resolve({ closedWith: (error as { code?: number }).code ?? -1 });
            },
            complete: () => resolve(result),
          },
        );
      });
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** The `extensions.code` of the first error, `closed` if the socket closed instead, or `ok`. */
export function outcome(result: SocketResult): string {
  if (result.closedWith !== undefined) return 'closed';
  return result.errors?.[0]?.extensions?.code ?? 'ok';
}
