/** The credential of an `Authorization: Bearer <credential>` value (RFC 6750 §2.1); null for anything else. */
export function bearerCredential(authorization: string | undefined): string | null {
  return /^Bearer +(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? null;
}
