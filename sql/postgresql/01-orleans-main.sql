-- =====================================================================================================
-- Meridian / Orleans ADO.NET on PostgreSQL -- 01: the query catalogue
--
-- Apply first; 02..04 add rows to the table created here. Safe to re-run.
--   psql -v ON_ERROR_STOP=1 --single-transaction -d <db> -f sql/postgresql/01-orleans-main.sql
--
-- Contract (taken from the Microsoft.Orleans.*.AdoNet 10.4.2 assemblies, see README.md):
--   * At start-up every ADO.NET provider runs exactly
--         SELECT QueryKey, QueryText FROM OrleansQuery
--     (persistence adds a WHERE on its four keys) and from then on executes only the stored texts.
--   * Providers bind parameters by name (@Name, sent by Npgsql as text/int4/int8/bytea/timestamptz)
--     and read result columns by name; PostgreSQL folds unquoted identifiers to lower case and
--     Npgsql's GetOrdinal falls back to a case-insensitive match, so QueryKey == querykey here.
--   * A provider refuses to start if one of its required keys is missing, and it never re-reads
--     the catalogue: after changing a QueryText, restart the silos.
--
-- House rules for the stored texts (02..04):
--   * Rows are upserted (ON CONFLICT DO UPDATE), so re-running a script publishes its current text.
--   * Texts are dollar-quoted ($q$ ... $q$) so they need no doubled quotes.
--   * Conditional writes report success as a single integer column (> 0 = done, 0 = lost the race).
-- =====================================================================================================

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

COMMENT ON TABLE OrleansQuery IS
    'Named SQL texts executed by the Orleans ADO.NET providers (contract of Orleans 10.4.2). Managed by sql/postgresql/*.sql; restart silos after edits.';
