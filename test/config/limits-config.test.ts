import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('hardening settings', () => {
  it('has safe defaults', () => {
    const config = loadConfig({});
    expect(config.websocket).toEqual({
      maxSubscriptionsPerSocket: 10,
      maxSubscriptionsPerUser: 100,
      maxMessages: 100,
      messageWindow: { iso: 'PT10S', ms: 10_000 },
      maxSocketsPerUser: 32,
      maxSocketsPerAddress: 256,
    });
    expect(config.session.maxAge).toEqual({ iso: 'PT12H', ms: 12 * 3_600_000 });
    expect(config.operationLimits).toMatchObject({
      maxDepth: 15,
      maxAliases: 15,
      maxDirectives: 50,
      maxTokens: 1_000,
      maxFields: 200,
      maxCost: 20_000,
    });
  });

  it('reads every knob', () => {
    const config = loadConfig({
      GRAPHQL_MAX_DEPTH: '8',
      GRAPHQL_MAX_ALIASES: '0',
      GRAPHQL_MAX_DIRECTIVES: '3',
      GRAPHQL_MAX_TOKENS: '500',
      GRAPHQL_MAX_FIELDS: '300',
      GRAPHQL_MAX_COST: '900',
      GRAPHQL_INTROSPECTION: 'false',
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
      WS_MAX_SUBSCRIPTIONS_PER_USER: '7',
      WS_MAX_MESSAGES: '500',
      WS_MESSAGE_WINDOW: 'PT1M',
      WS_MAX_SOCKETS_PER_USER: '3',
      WS_MAX_SOCKETS_PER_ADDRESS: '9',
      SESSION_MAX_AGE: 'PT1H',
    });
    expect(config.operationLimits).toEqual({
      maxDepth: 8,
      maxAliases: 0,
      maxDirectives: 3,
      maxTokens: 500,
      maxFields: 300,
      maxCost: 900,
      introspection: false,
      hideSuggestions: false,
    });
    expect(config.websocket).toEqual({
      maxSubscriptionsPerSocket: 2,
      maxSubscriptionsPerUser: 7,
      maxMessages: 500,
      messageWindow: { iso: 'PT1M', ms: 60_000 },
      maxSocketsPerUser: 3,
      maxSocketsPerAddress: 9,
    });
    expect(config.session.maxAge.ms).toBe(3_600_000);
  });

  it.each([
    ['GRAPHQL_MAX_DEPTH', 'deep', 'GRAPHQL_MAX_DEPTH must be a number'],
    ['GRAPHQL_MAX_DEPTH', '0', 'GRAPHQL_MAX_DEPTH must be between 1 and 100'],
    ['GRAPHQL_MAX_ALIASES', '1.5', 'GRAPHQL_MAX_ALIASES must be a whole number'],
    ['GRAPHQL_MAX_TOKENS', '10', 'GRAPHQL_MAX_TOKENS must be between 100 and 100000'],
    ['GRAPHQL_MAX_FIELDS', '5', 'GRAPHQL_MAX_FIELDS must be between 10 and 10000'],
    ['GRAPHQL_MAX_COST', '-1', 'GRAPHQL_MAX_COST must be between 1 and 10000000'],
    ['GRAPHQL_MAX_DIRECTIVES', '1e9', 'GRAPHQL_MAX_DIRECTIVES must be between 0 and 1000'],
    ['GRAPHQL_INTROSPECTION', 'yes', 'GRAPHQL_INTROSPECTION must be true or false'],
    ['WS_MAX_SUBSCRIPTIONS_PER_SOCKET', '0', 'WS_MAX_SUBSCRIPTIONS_PER_SOCKET must be between 1 and 1000'],
    ['WS_MAX_SUBSCRIPTIONS_PER_USER', 'many', 'WS_MAX_SUBSCRIPTIONS_PER_USER must be a number'],
    ['WS_MAX_MESSAGES', '5', 'WS_MAX_MESSAGES must be between 10 and 1000000'],
    ['WS_MAX_SOCKETS_PER_ADDRESS', '0', 'WS_MAX_SOCKETS_PER_ADDRESS must be between 1 and 1000000'],
    ['SESSION_MAX_AGE', 'P999999999D', 'SESSION_MAX_AGE must be a positive ISO-8601 duration'],
    // Past 2^31-1 ms, Node fires a timer after 1 ms: the sweeper would run in a busy loop.
    ['SWEEP_INTERVAL', 'P25D', 'SWEEP_INTERVAL must be at most P24D'],
    ['MAIL_POLL_INTERVAL', 'P30D', 'MAIL_POLL_INTERVAL must be at most P24D'],
    ['SWEEP_MAX_RATE', '0', 'SWEEP_MAX_RATE must be between 1 and 1000000'],
    ['SWEEP_MAX_RATE', 'fast', 'SWEEP_MAX_RATE must be a number'],
    ['MAIL_MAX_RATE', '0', 'MAIL_MAX_RATE must be between 1 and 10000'],
    ['MAIL_MAX_RATE', '2.5', 'MAIL_MAX_RATE must be a whole number'],
  ])('refuses %s=%s by name', (name, value, message) => {
    expect(problems({ [name]: value })).toEqual([expect.stringContaining(message)]);
  });
});
