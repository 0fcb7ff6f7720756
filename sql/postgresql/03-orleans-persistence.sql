-- =====================================================================================================
-- Meridian / Orleans ADO.NET on PostgreSQL -- 03: grain state
-- (Microsoft.Orleans.Persistence.AdoNet 10.4.2: AddAdoNetGrainStorage)
--
-- Requires 01-orleans-main.sql. Safe to re-run.
--   psql -v ON_ERROR_STOP=1 --single-transaction -d <db> -f sql/postgresql/03-orleans-persistence.sql
--
-- One row per (ServiceId, grain type, grain id). Version is the grain state's ETag: NULL ETag means
-- "never read/written", every successful write or clear adds one. A write whose expected version is
-- stale changes nothing and returns a version the provider recognises as a conflict
-- (InconsistentStateException).
--
-- Every key takes the grain identity parameters
--   @GrainIdHash int, @GrainIdN0 bigint, @GrainIdN1 bigint, @GrainTypeHash int,
--   @GrainTypeString text, @GrainIdExtensionString text (NULL for non-string keys), @ServiceId text
-- and additionally:
--   ReadFromStorageKey  -                                  -> PayloadBinary, Version (no row = no state)
--   WriteToStorageKey   @GrainStateVersion @PayloadBinary  -> NewGrainStateVersion
--   ClearStorageKey     @GrainStateVersion                 -> NewGrainStateVersion (payload nulled)
--   DeleteStorageKey    @GrainStateVersion                 -> deleted Version + 1  (DeleteStateOnClear)
-- =====================================================================================================

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer       NOT NULL,
    GrainIdN0              bigint        NOT NULL,
    GrainIdN1              bigint        NOT NULL,
    GrainTypeHash          integer       NOT NULL,
    GrainTypeString        varchar(512)  NOT NULL,
    GrainIdExtensionString varchar(512)  NULL,
    ServiceId              varchar(150)  NOT NULL,
    PayloadBinary          bytea         NULL,
    ModifiedOn             timestamptz   NOT NULL DEFAULT now(),
    Version                integer       NULL
);

-- Lookups always carry both hashes; the remaining identity columns are checked on the few hits.
CREATE INDEX IF NOT EXISTS IX_OrleansStorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Write grain state with optimistic concurrency. Returns the new version, or, when nothing was
-- written, the expected version unchanged (update lost) / NULL (insert lost) -- both read as a
-- conflict by the provider.
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash    integer,
    p_grain_id_n0      bigint,
    p_grain_id_n1      bigint,
    p_grain_type_hash  integer,
    p_grain_type       varchar,
    p_grain_id_ext     varchar,
    p_service_id       varchar,
    p_expected_version integer,
    p_payload          bytea)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_expected_version IS NOT NULL THEN
        UPDATE OrleansStorage s
           SET PayloadBinary = p_payload,
               ModifiedOn    = now(),
               Version       = s.Version + 1
         WHERE s.GrainIdHash = p_grain_id_hash
           AND s.GrainTypeHash = p_grain_type_hash
           AND s.GrainIdN0 = p_grain_id_n0
           AND s.GrainIdN1 = p_grain_id_n1
           AND s.GrainTypeString = p_grain_type
           AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
           AND s.ServiceId = p_service_id
           AND s.Version = p_expected_version
        RETURNING s.Version INTO v_new;
        RETURN QUERY SELECT COALESCE(v_new, p_expected_version);
        RETURN;
    END IF;

    -- First write. The table has no unique key (identity strings may be long), so serialise
    -- concurrent first writes of the same grain on a transaction-scoped advisory lock; the NOT
    -- EXISTS below then runs with a snapshot that sees the winner's row.
    PERFORM pg_advisory_xact_lock(p_grain_id_hash, p_grain_type_hash);

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
         ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type,
           p_grain_id_ext, p_service_id, p_payload, now(), 1
     WHERE NOT EXISTS (
            SELECT 1
              FROM OrleansStorage s
             WHERE s.GrainIdHash = p_grain_id_hash
               AND s.GrainTypeHash = p_grain_type_hash
               AND s.GrainIdN0 = p_grain_id_n0
               AND s.GrainIdN1 = p_grain_id_n1
               AND s.GrainTypeString = p_grain_type
               AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
               AND s.ServiceId = p_service_id)
    RETURNING 1 INTO v_new;
    RETURN QUERY SELECT v_new;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, Version
      FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId;
$q$),

('WriteToStorageKey', $q$
    SELECT NewGrainStateVersion
      FROM orleans_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                                 @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),

-- Clear keeps the row (and so the version sequence) and drops the payload.
('ClearStorageKey', $q$
    UPDATE OrleansStorage
       SET PayloadBinary = NULL,
           ModifiedOn    = now(),
           Version       = Version + 1
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),

-- Used instead of ClearStorageKey with DeleteStateOnClear = true. Returning Version + 1 (a value that
-- differs from the caller's ETag) is how the provider tells "deleted" from "version conflict".
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
