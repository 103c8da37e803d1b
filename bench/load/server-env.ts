/** `NAME=value,NAME=value` (BENCH_SERVER_ENV) as an environment; an entry without a name or `=` is refused. */
export function serverEnv(spec: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of spec.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`BENCH_SERVER_ENV: "${pair}" is not NAME=value`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
