/**
 * Several writes as one SQL statement (data-modifying WITH clauses). A statement is atomic on its own,
 * so commitIngest needs no BEGIN and COMMIT: one round trip instead of four, which is most of an ingest
 * batch's time when the database is a network hop away or the host is busy.
 */

/** A statement's parameters: `add` keeps the value and gives its placeholder ($1, $2, ...). */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The writes run once each and to completion, whether or not the final SELECT reads them (PostgreSQL's WITH). */
export function oneStatement(writes: readonly string[]): string {
  return `WITH ${writes.map((sql, i) => `w${i} AS (${sql})`).join(', ')} SELECT 1`;
}
