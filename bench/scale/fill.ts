import { createHash, randomUUID } from 'node:crypto';
import { createScimSecret } from '../../src/scim/scim-token-format.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import { withClient } from '../../test/support/postgres.js';

/** Users in the sweeper's backlog (their own organisations), given expired tokens by `expireBacklog`. */
export const BACKLOG = 100_000;
/** Users whose tokens get real secrets, spread evenly over the table: the same number at every size. */
export const SAMPLED = 5_000;

const DAY_MS = 86_400_000;

/** PostgreSQL's `md5(text)::uuid`, as the fill names its rows: a row's id can be told from its name. */
export function md5uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Fills a migrated, empty database with `size` users and tokens in SQL
 * (`generate_series`, not the ORM): organisations of 1,000 users in 10 units,
 * one token each, created over the last 180 days (so expiring over the next
 * 180), the warnings already due sent, a third used in the last minute, one
 * audit event per user. With `backlog`, also BACKLOG users of their own
 * organisations without tokens (see `expireBacklog`).
 */
export async function fill(url: string, size: number, backlog: boolean): Promise<void> {
  const orgs = Math.max(1, Math.floor(size / 1000));
  await withClient(url, async (client) => {
    await client.query(
      `insert into organizations (id, name, created_at)
      select md5('org' || o)::uuid, 'Org ' || o, now() from generate_series(0, $1 - 1) o`,
      [orgs + (backlog ? BACKLOG / 1000 : 0)],
    );
    await client.query(
      `insert into business_units (id, organization_id, name, created_at)
      select md5('unit' || o || '-' || b)::uuid, md5('org' || o)::uuid, 'Unit ' || b, now()
        from generate_series(0, $1 - 1) o, generate_series(0, 9) b`,
      [orgs],
    );
    await client.query(
      `insert into users (id, organization_id, email, name, role, created_at)
      select md5('user' || i)::uuid, md5('org' || (i / 1000))::uuid, 'user' || i || '@scale.example', 'User ' || i,
             case when i % 1000 = 0 then 'ADMIN' else 'USER' end, now() - (i % 1000) * interval '1 minute'
        from generate_series(0, $1 - 1) i`,
      [size + (backlog ? BACKLOG : 0)],
    );
    await client.query(
      `insert into user_business_units (user_id, business_unit_id)
      select md5('user' || i)::uuid, md5('unit' || (i / 1000) || '-' || (i % 10))::uuid from generate_series(0, $1 - 1) i`,
      [size],
    );
    // The warning already sent is the shortest threshold the token is within (30, 7 or 1 days; none: the lifetime).
    await client.query(
      `insert into api_tokens (id, user_id, digest, hint, created_at, expires_at, created_region, last_used_at, last_used_region, warned_threshold_ms)
      select md5('token' || i)::uuid, md5('user' || i)::uuid, encode(sha256(('secret' || i)::bytea), 'hex'), 'tok_' || (i % 10000),
             now() - (i % 180) * interval '1 day', now() + (180 - i % 180) * interval '1 day', 'eu-west',
             case when i % 3 = 0 then now() - interval '1 minute' else null end, case when i % 3 = 0 then 'eu-west' else null end,
             case when 180 - i % 180 <= 1 then $2::bigint when 180 - i % 180 <= 7 then $3::bigint
                  when 180 - i % 180 <= 30 then $4::bigint else $5::bigint end
        from generate_series(0, $1 - 1) i`,
      [size, DAY_MS, 7 * DAY_MS, 30 * DAY_MS, 180 * DAY_MS],
    );
    await client.query(
      `insert into audit_events (occurred_at, action, actor_kind, actor_label, subject_user_id, organization_id, region)
      select now(), 'GENERATED', 'session', 'user' || i || '@scale.example', md5('user' || i)::uuid, md5('org' || (i / 1000))::uuid, 'eu-west'
        from generate_series(0, $1 - 1) i`,
      [size],
    );
    await client.query('analyze');
  });
}

/**
 * Real secrets for SAMPLED users spread evenly over the table (the fill's
 * digests are of no secret anyone holds): their tokens' digests are
 * replaced, and the secrets returned in the users' order.
 */
export async function sampleSecrets(url: string, size: number): Promise<string[]> {
  const step = Math.max(1, Math.floor(size / SAMPLED));
  const users: string[] = [];
  const secrets: string[] = [];
  const digests: string[] = [];
  for (let i = 0; i < size && users.length < SAMPLED; i += step) {
    const made = createTokenSecret();
    users.push(md5uuid(`user${i}`));
    secrets.push(made.secret);
    digests.push(made.digest);
  }
  await withClient(url, (client) =>
    client.query(
      `update api_tokens t set digest = v.digest from unnest($1::uuid[], $2::text[]) v(user_id, digest) where t.user_id = v.user_id`,
      [users, digests],
    ),
  );
  return secrets;
}

/**
 * Brings a just-filled database to the state a long-running one is in:
 * vacuumed (every page all-visible, hint bits set), analysed and checkpointed.
 * Without it, PostgreSQL's autovacuum may work through the million fresh rows
 * during the first round, the first read of each page writes its hint bits,
 * and the checkpointer writes the fill's dirty pages out over the next minutes
 * (spread over `checkpoint_timeout`, five by default): the rounds would
 * measure the fill's aftermath, not the service.
 */
export async function settle(url: string, { vacuum = true, checkpoint = true } = {}): Promise<void> {
  await withClient(url, async (client) => {
    if (vacuum) await client.query('vacuum (analyze)');
    // Needs a superuser or pg_checkpoint: the bench's database is the machine's own.
    if (checkpoint) await client.query('checkpoint');
  });
}

/** PostgreSQL's buffer cache, as set (`128MB`) and in bytes. */
export async function sharedBuffers(url: string): Promise<{ readonly setting: string; readonly bytes: number }> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ setting: string; bytes: string }>(
      `select current_setting('shared_buffers') as setting, pg_size_bytes(current_setting('shared_buffers')) as bytes`,
    ),
  );
  return { setting: rows[0]?.setting ?? '?', bytes: Number(rows[0]?.bytes ?? 0) };
}

/** Gives every backlog user a token that expired a day ago; resolves how many. */
export async function expireBacklog(url: string, size: number): Promise<number> {
  return withClient(url, async (client) => {
    const inserted = await client.query(
      `insert into api_tokens (id, user_id, digest, hint, created_at, expires_at, created_region, warned_threshold_ms)
      select gen_random_uuid(), md5('user' || i)::uuid, encode(sha256((gen_random_uuid()::text)::bytea), 'hex'), 'tok_bl',
             now() - interval '181 days', now() - interval '1 day' + (i % 1000) * interval '1 second', 'eu-west', $3::bigint
        from generate_series($1::int, $1::int + $2::int - 1) i`,
      [size, BACKLOG, DAY_MS],
    );
    await client.query('analyze api_tokens');
    return inserted.rowCount ?? 0;
  });
}

/**
 * Resolves once no token that expired before now is left in the table,
 * looking every `everyMs` on one connection. Each look reads the first entry
 * of the `(expires_at, id)` index, as a sweep claims: a `count(*)` of the
 * backlog each time took PostgreSQL 92 ms, and a new connection each time a
 * backend start, load that the sweep being measured had to share.
 */
export async function noneExpiredLeft(url: string, everyMs: number): Promise<void> {
  await withClient(url, async (client) => {
    for (;;) {
      const result = await client.query('select 1 from api_tokens where expires_at <= now() limit 1');
      if (result.rowCount === 0) return;
      await new Promise((done) => setTimeout(done, everyMs));
    }
  });
}

/** Deletes the emails still queued; resolves how many. */
export async function discardPendingMail(url: string): Promise<number> {
  return withClient(url, async (client) => (await client.query(`delete from outbox_messages where status = 'PENDING'`)).rowCount ?? 0);
}

/** A SCIM token for the first organisation, stored as the admin CLI stores one. */
export async function scimSecret(url: string): Promise<string> {
  const { secret, digest } = createScimSecret();
  await withClient(url, (client) =>
    client.query(
      `insert into scim_tokens (id, organization_id, digest, created_at) values ($1, $2, $3, now())
      on conflict (organization_id) do update set digest = excluded.digest`,
      [randomUUID(), md5uuid('org0'), digest],
    ),
  );
  return secret;
}
