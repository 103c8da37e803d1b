import type { MikroORM } from '@mikro-orm/core';
import { isUuid } from '../ids.js';
import { User } from './user.entity.js';

/** Reads users with what authorization needs: business units and status. */
export class UserService {
  constructor(private readonly orm: MikroORM) {}

  /** An active user, or null. */
  async findActive(id: string): Promise<User | null> {
    if (!isUuid(id)) return null;
    return this.orm.em.fork().findOne(User, { id, active: true }, { populate: ['businessUnits'] });
  }

  async findByEmail(email: string): Promise<User | null> {
    return this.orm.em.fork().findOne(User, { email: email.trim().toLowerCase() }, { populate: ['businessUnits'] });
  }
}
