import type { Config } from './config.js';

/**
 * The start-up line that says which posture the service runs in and what
 * that turns on, logged at warn so it shows whatever LOG_LEVEL filters: an
 * operator must never have to guess whether demo conveniences are live.
 */
export function postureWarning(config: Pick<Config, 'env' | 'posture' | 'devSignIn' | 'devSignInOff'>): string {
  if (config.env === 'production') {
    return `Running in the PRODUCTION posture (${config.posture}): no demo data, no development sign-in, no open introspection.`;
  }
  const signIn = config.devSignIn
    ? 'POST /dev/session signs sessions for the demo users'
    : `development sign-in is off because the deployment looks real (${config.devSignInOff ?? ''})`;
  return (
    `Running in the DEVELOPMENT posture (${config.posture}): demo data is seeded, ${signIn}, ` +
    'introspection is open. Set NODE_ENV=production for a deployment.'
  );
}
