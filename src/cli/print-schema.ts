import 'reflect-metadata';
import { printSchema } from 'graphql';
import { buildAppSchema } from '../schema.js';

/** Prints the GraphQL schema (SDL); `npm run schema` writes it to schema.graphql. */
buildAppSchema().then(
  (schema) => process.stdout.write(`${printSchema(schema)}\n`),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
