/**
 * The attack from the report: fragments that each spread the next twice. The
 * document grows linearly with `depth`; what it expands to doubles at each level.
 */
export function doublingFragments(depth: number, on = 'Query'): string {
  const parts = ['{ ...F1 }'];
  for (let i = 1; i < depth; i++) parts.push(`fragment F${i} on ${on} { ...F${i + 1} ...F${i + 1} }`);
  parts.push(`fragment F${depth} on ${on} { __typename }`);
  return parts.join('\n');
}
