import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import { SubscriptionOverHttpError } from '../errors.js';

/**
 * Refuses a subscription sent over HTTP with 405 before it runs. Apollo would
 * execute it once like a query, calling the event resolver without an event:
 * a TypeError, answered as an internal error and logged as one.
 */
export function subscriptionsOverHttpPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === OperationTypeNode.SUBSCRIPTION) throw new SubscriptionOverHttpError();
        },
      };
    },
  };
}
