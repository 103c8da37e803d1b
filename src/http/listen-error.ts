/**
 * What to tell a person whose server could not listen, instead of a stack
 * trace: the common causes have a one-line fix.
 */
export function listenError(error: unknown, port: number): Error {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (code === 'EADDRINUSE') return new Error(`port ${port} is in use; set PORT`, { cause: error });
  if (code === 'EACCES') return new Error(`port ${port} needs privileges this process does not have; set PORT`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}
