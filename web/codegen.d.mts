/** The generated module (web/src/operations.generated.ts) for these operations against this schema. */
export declare function generate(schemaSource: string, operationsSource: string): string;
export declare const SCHEMA: URL;
export declare const OPERATIONS: URL;
export declare const GENERATED: URL;
