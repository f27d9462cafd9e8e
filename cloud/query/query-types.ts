/** A dataset query after checking and translation, ready for a storage backend to run. */
export interface TranslatedQuery {
  /** The query in the backend's dialect (SQLite for the SQLite store). */
  sql: string;
  /** Positional parameters, e.g. the deltaTime window bounds. */
  params: (string | number)[];
  /** Datastores the query reads. */
  datastores: string[];
  /**
   * Result columns the backend is to rename: an expression without AS is named by its SQLite text, which
   * PostgreSQL would cut at 63 bytes, so there it is written AS a placeholder and renamed from this map.
   */
  columnNames?: Record<string, string>;
}
