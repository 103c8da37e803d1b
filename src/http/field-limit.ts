import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

/** The most fields one operation may select, counting every alias and every fragment spread (introspection aside). */
export const MAX_FIELDS = 200;

/**
 * Refuses operations that select more than `max` fields. Without it, one
 * 100 KB request could alias `me` thousands of times and turn into thousands
 * of database reads. Fragments are counted where they are spread, so they
 * cannot hide the size. Used by both HTTP (Apollo) and graphql-ws, which
 * validate separately.
 */
export function fieldLimitRule(max = MAX_FIELDS): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of context.getDocument().definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const count = countFields(operation.selectionSet, fragments, new Set(), max);
      if (count > max) {
        context.reportError(
          new GraphQLError(`This operation selects more than ${max} fields; split it into smaller ones.`, {
            nodes: [operation],
          }),
        );
      }
    },
  });
}

/** Counts up to just past `max`, then stops: a hostile document costs no more to refuse than `max` fields. */
function countFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  spreading: Set<string>,
  max: number,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (count > max) break;
    if (selection.kind === Kind.FIELD) {
      // Schema introspection (`__schema`, `__typename`) is answered from memory, and explorers' standard
      // introspection query alone is larger than the limit; production turns introspection off anyway.
      if (selection.name.value.startsWith('__')) continue;
      count += 1 + (selection.selectionSet ? countFields(selection.selectionSet, fragments, spreading, max - count) : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countFields(selection.selectionSet, fragments, spreading, max - count);
    } else {
      const fragment = fragments.get(selection.name.value);
      // Unknown and cyclic spreads are reported by graphql's own rules.
      if (!fragment || spreading.has(fragment.name.value)) continue;
      spreading.add(fragment.name.value);
      count += countFields(fragment.selectionSet, fragments, spreading, max - count);
      spreading.delete(fragment.name.value);
    }
  }
  return count;
}
