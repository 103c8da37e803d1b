import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  visit,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** What one GraphQL operation may ask for, on HTTP and graphql-ws alike (config: `GRAPHQL_MAX_*`). */
export interface OperationLimits {
  /** Nesting of selections; fragments do not add a level. The standard introspection query is 15 deep. */
  readonly maxDepth: number;
  /** Aliased fields, `__typename` included: aliases are how one small document asks for the same thing many times. */
  readonly maxAliases: number;
  readonly maxDirectives: number;
  /** Lexical tokens in the document; enforced while parsing, so an oversized document is never built. */
  readonly maxTokens: number;
  /**
   * Fields as written in the document (`__typename` included; a fragment's
   * fields once, wherever it is spread): a field repeated hundreds of times is
   * merged into one answer, yet costs graphql's overlap check quadratic time.
   */
  readonly maxFields: number;
  /** graphql-armor's static cost of the data fields (objects 2, scalars 1, ×1.5 per level, × `first`). */
  readonly maxCost: number;
  /** Whether `__schema` / `__type` are answered. */
  readonly introspection: boolean;
  /** Whether "Did you mean …?" is left out of errors, so they do not reveal the schema. */
  readonly hideSuggestions: boolean;
}

/**
 * What an introspection query may cost on top of `maxCost`. By armor's measure
 * the standard introspection query (descriptions, deprecations, specifiedBy)
 * costs about 87,500, because the `ofType` chains are deep; one copy fits, two
 * do not, so an introspection answer stays the size of one schema.
 */
const INTROSPECTION_COST_ALLOWANCE = 100_000;

/**
 * armor's rules report by throwing unless told otherwise, which would abort
 * validation with an exception instead of an answer; report instead, with the
 * message that names the limit (armor prefixes it with "Syntax Error").
 */
const report = {
  propagateOnRejection: false,
  exposeLimits: true,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

/**
 * The validation rules that bound an operation, besides graphql's own. Each of
 * armor's rules measures a fragment once and reuses the figure at every spread,
 * so their cost grows with the document, not with what its fragments expand to
 * (a chain of fragments each spreading the next twice is refused in linear time).
 */
export function operationLimitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ ...report, n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: false }),
    maxAliasesRule({ ...report, n: limits.maxAliases, allowList: [] }),
    maxDirectivesRule({ ...report, n: limits.maxDirectives }),
    // armor's `ignoreIntrospection` skips `__schema` only: data fields get `maxCost`,
    // and the whole operation, introspection included, a bounded allowance on top.
    costLimitRule({ ...report, maxCost: limits.maxCost, ignoreIntrospection: true }),
    costLimitRule({ ...report, maxCost: limits.maxCost + INTROSPECTION_COST_ALLOWANCE, ignoreIntrospection: false }),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

/** graphql's parse options: the token limit, applied while parsing. */
export function operationParseOptions(limits: OperationLimits): ParseOptions {
  return { maxLexicalTokens: limits.maxTokens };
}

/** Every error of a refused operation carries a code, as Apollo's do over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    extensions: { ...error.extensions, code },
  });
}

/**
 * What is refused before graphql's validation runs, with one error: a
 * document over `maxFields`, or naming a directive the schema does not have.
 * Validation would report every unknown directive (an error per directive,
 * hundreds within the token limit) and run its quadratic overlap check on
 * every repeated field first. One linear walk of the document, nothing more.
 */
export function precheckOperation(limits: OperationLimits, schema: GraphQLSchema, document: DocumentNode): GraphQLError | null {
  let fields = 0;
  // Set from the visitor below, which TypeScript's flow analysis cannot see into.
  const found: { unknown: string | null } = { unknown: null };
  visit(document, {
    Field() {
      fields++;
    },
    Directive(node) {
      if (found.unknown === null && !schema.getDirective(node.name.value)) found.unknown = node.name.value;
    },
  });
  const { unknown } = found;
  if (fields > limits.maxFields) {
    return new GraphQLError(`Fields limit of ${limits.maxFields} exceeded, found ${fields}.`, {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  }
  if (unknown !== null) {
    return new GraphQLError(`Unknown directive "@${unknown}".`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  }
  return null;
}

/**
 * The checks graphql-ws needs to refuse what Apollo refuses over HTTP: parse
 * with the token limit (a syntax error is an answer, not a thrown exception),
 * then graphql's rules plus the limits. Either the document, ready to run, or
 * the errors to send back.
 */
export function checkOperation(
  limits: OperationLimits,
  schema: GraphQLSchema,
  query: string,
): { document: DocumentNode; errors: null } | { document: null; errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, operationParseOptions(limits));
  } catch (error) {
    const parseError = error instanceof GraphQLError ? error : new GraphQLError('Syntax Error: the document could not be parsed.');
    return { document: null, errors: [withCode(parseError, 'GRAPHQL_PARSE_FAILED')] };
  }
  const refused = precheckOperation(limits, schema, document);
  if (refused) return { document: null, errors: [refused] };
  const errors = validateOperation(limits, schema, document);
  return errors.length ? { document: null, errors } : { document, errors: null };
}

/** graphql's rules plus the limits, with codes; what graphql-ws's `validate` hook runs. */
function validateOperation(limits: OperationLimits, schema: GraphQLSchema, document: DocumentNode): GraphQLError[] {
  return validate(schema, document, [...specifiedRules, ...operationLimitRules(limits)], {
    hideSuggestions: limits.hideSuggestions,
  }).map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
}
