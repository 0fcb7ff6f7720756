-- =====================================================================================================
-- Meridian / Orleans ADO.NET on PostgreSQL -- 04: reminders
-- (Microsoft.Orleans.Reminders.AdoNet 10.4.2: UseAdoNetReminderService)
--
-- Requires 01-orleans-main.sql. Safe to re-run.
--   psql -v ON_ERROR_STOP=1 --single-transaction -d <db> -f sql/postgresql/04-orleans-reminders.sql
--
-- One row per (ServiceId, GrainId, ReminderName). GrainHash is the grain's uniform hash reinterpreted
-- as a signed int; each silo reads the reminders of its consistent-hash range (BeginHash, EndHash].
-- Version is the reminder's ETag (0 on first insert, +1 per upsert).
--
-- Keys (parameters -> result columns):
--   UpsertReminderRowKey   @ServiceId @GrainId @ReminderName @StartTime @Period @GrainHash -> Version
--   ReadReminderRowsKey    @ServiceId @GrainId                      -> reminder columns
--   ReadReminderRowKey     @ServiceId @GrainId @ReminderName        -> reminder columns (0 or 1 row)
--   ReadRangeRows1Key      @ServiceId @BeginHash @EndHash           -> reminder columns, BeginHash < EndHash
--   ReadRangeRows2Key      @ServiceId @BeginHash @EndHash           -> reminder columns, range wraps around
--   DeleteReminderRowKey   @ServiceId @GrainId @ReminderName @Version -> 1 int (1 = deleted)
--   DeleteReminderRowsKey  @ServiceId                               (no result)
-- "reminder columns" = GrainId ReminderName StartTime Period(bigint, ms) Version.
-- =====================================================================================================

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)   NOT NULL,
    GrainId      varchar(512)   NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,   -- milliseconds
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,

    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Range reads run on every silo at start-up and on every ring change.
CREATE INDEX IF NOT EXISTS IX_RemindersTable_ServiceId_GrainHash ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', $q$
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
       SET StartTime = EXCLUDED.StartTime,
           Period    = EXCLUDED.Period,
           GrainHash = EXCLUDED.GrainHash,
           Version   = r.Version + 1
    RETURNING r.Version AS Version;
$q$),

('ReadReminderRowsKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId
       AND GrainId = @GrainId;
$q$),

('ReadReminderRowKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId
       AND GrainId = @GrainId
       AND ReminderName = @ReminderName;
$q$),

('ReadRangeRows1Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId
       AND GrainHash > @BeginHash
       AND GrainHash <= @EndHash;
$q$),

('ReadRangeRows2Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
      FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId
       AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),

('DeleteReminderRowKey', $q$
    WITH deleted AS (
        DELETE FROM OrleansRemindersTable
         WHERE ServiceId = @ServiceId
           AND GrainId = @GrainId
           AND ReminderName = @ReminderName
           AND Version = @Version
        RETURNING 1
    )
    SELECT count(*)::integer AS row_count FROM deleted;
$q$),

('DeleteReminderRowsKey', $q$
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
