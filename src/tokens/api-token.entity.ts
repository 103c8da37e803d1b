import { randomUUID } from 'node:crypto';
import { BigIntType } from '@mikro-orm/core';
import { Entity, Index, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { User } from '../users/user.entity.js';

/**
 * A user's one API token. The unique index on `user` is what makes "one token
 * per user" hold under concurrency. The secret is not here: only its digest.
 * GraphQL shows a token through `ApiTokenView`, which has no digest field, so
 * no query can reach it.
 */
@Entity({ tableName: 'api_tokens' })
// The sweeper claims in `(expires_at, id)` order: this index hands it a batch without sorting the backlog.
@Index({ properties: ['expiresAt', 'id'] })
export class ApiToken {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @OneToOne(() => User, { owner: true, unique: 'api_tokens_user_id_unique', deleteRule: 'cascade', updateRule: 'cascade' })
  user!: User;

  /** SHA-256 of the secret, hex. Lookups at every use go through this index. */
  @Property({ type: 'string', length: 64, unique: true })
  digest!: string;

  @Property({ type: 'string', length: 16 })
  hint!: string;

  @Property({ type: Date })
  createdAt!: Date;

  @Property({ type: Date })
  expiresAt!: Date;

  @Property({ type: 'string', length: 32 })
  createdRegion!: string;

  @Property({ type: Date, nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'string', length: 32, nullable: true })
  lastUsedRegion: string | null = null;

  /**
   * Expiry-warning thresholds (in ms) at or above this need no warning: the
   * smallest one already sent, or the lifetime for a new token. Updated with a
   * compare-and-set, so each warning is sent once even with several sweepers.
   */
  @Property({ type: new BigIntType('number'), nullable: true })
  warnedThresholdMs: number | null = null;

  /**
   * The client address of the last use, as `TRUST_PROXY` resolves it (45 fits
   * any IPv6 text form). Last in the class as in the table, which a migration
   * extended.
   */
  @Property({ type: 'string', length: 45, nullable: true })
  lastUsedAddress: string | null = null;
}
