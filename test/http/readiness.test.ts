import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { registerReadiness, type ReadinessOptions } from '../../src/http/readiness.js';

const TOKEN = 'a-metrics-token-that-is-long-enough-0123456789';

describe('/readyz', () => {
  let app: FastifyInstance | null = null;
  afterEach(async () => {
    await app?.close();
  });

  async function readyz(options: Partial<ReadinessOptions>, authorization?: string) {
    app = Fastify();
    registerReadiness(app, {
      checks: { database: async () => undefined },
      details: async () => ({ region: 'eu-west' }),
      metricsToken: TOKEN,
      stopping: () => false,
      logger: pino({ level: 'silent' }),
      ...options,
    });
    const response = await app.inject({ method: 'GET', url: '/readyz', headers: authorization ? { authorization } : {} });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  }

  it('answers 503 while the instance is stopping, so a load balancer drains it', async () => {
    expect(await readyz({ stopping: () => true })).toEqual({ status: 503, body: { status: 'unavailable' } });
  });

  it('answers 503 when a check hangs past its timeout, without saying which', async () => {
    const hang = () => new Promise<never>(() => undefined);
    expect(await readyz({ checks: { database: async () => undefined, redis: hang }, timeoutMs: 50 })).toEqual({
      status: 503,
      body: { status: 'unavailable' },
    });
  });

  it('hides the error of a failed check from everyone, and names the check only to the metrics token', async () => {
    const failing = async () => {
      throw new Error('connect ECONNREFUSED db.internal:5432 api_tokens_prod');
    };
    const anonymous = await readyz({ checks: { database: failing } });
    expect(anonymous).toEqual({ status: 503, body: { status: 'unavailable' } });
    const operator = await readyz({ checks: { database: failing } }, `Bearer ${TOKEN}`);
    expect(operator.body).toEqual({ status: 'unavailable', stopping: false, checks: { database: 'failed' }, region: 'eu-west' });
    expect(JSON.stringify(operator.body)).not.toContain('ECONNREFUSED');
  });

  it('shows details to nobody when no metrics token is configured', async () => {
    expect(await readyz({ metricsToken: null }, 'Bearer ')).toEqual({ status: 200, body: { status: 'ready' } });
  });
});
