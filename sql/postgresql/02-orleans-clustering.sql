-- =====================================================================================================
-- Meridian / Orleans ADO.NET on PostgreSQL -- 02: cluster membership
-- (Microsoft.Orleans.Clustering.AdoNet 10.4.2: UseAdoNetClustering on silos and clients)
--
-- Requires 01-orleans-main.sql. Safe to re-run.
--   psql -v ON_ERROR_STOP=1 --single-transaction -d <db> -f sql/postgresql/02-orleans-clustering.sql
--
-- Model: one version row per cluster (DeploymentId = ClusterOptions.ClusterId) acting as the table's
-- etag, and one row per silo incarnation (address, port, generation). Every membership change
-- (insert/update of a silo row) must advance the version by exactly one, or change nothing at all;
-- this is what makes the Orleans membership protocol's optimistic concurrency work.
--
-- Keys (parameters -> result columns):
--   InsertMembershipVersionKey      @DeploymentId                                    -> 1 int (1 = created)
--   InsertMembershipKey             @DeploymentId @Address @Port @Generation @SiloName @HostName
--                                   @Status @ProxyPort @StartTime @IAmAliveTime @Version -> 1 int
--   UpdateMembershipKey             @DeploymentId @Address @Port @Generation @Status @SuspectTimes
--                                   @IAmAliveTime @Version                            -> 1 int
--   UpdateIAmAlivetimeKey           @DeploymentId @Address @Port @Generation @IAmAliveTime (no result)
--   MembershipReadRowKey            @DeploymentId @Address @Port @Generation          -> membership columns
--   MembershipReadAllKey            @DeploymentId                                    -> membership columns
--   GatewaysQueryKey                @DeploymentId @Status                            -> Address ProxyPort Generation
--   DeleteMembershipTableEntriesKey @DeploymentId                                    (no result)
--   CleanupDefunctSiloEntriesKey    @DeploymentId @IAmAliveTime                      (no result; fallback)
--   CleanupDefunctSiloEntryKey      @DeploymentId @Address @Port @Generation @StartTime @IAmAliveTime
--                                   @SuspectTimes                                    (no result; optional,
--                                   preferred by 10.4.2 when present)
-- "membership columns" = DeploymentId Address Port Generation SiloName HostName Status ProxyPort
-- SuspectTimes StartTime IAmAliveTime Version; the version row must come back even when no silo row
-- matches (LEFT JOIN), because the provider takes the table etag from it.
-- SiloStatus values used below: 3 = Active, 6 = Dead.
-- =====================================================================================================

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,   -- IPv4 or IPv6 text
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,       -- gateway port, 0 when the silo is not a gateway
    SuspectTimes varchar(8000)  NULL,       -- "silo,date|silo,date", written and parsed by Orleans
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,

    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Insert a silo row and advance the table version, both or neither.
-- Returns 1 on success, 0 when the expected version is stale or the silo row already exists.
-- The version row is locked first (the same order as orleans_membership_update) so concurrent
-- writers queue on it instead of deadlocking.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id   varchar,
    p_address         varchar,
    p_port            integer,
    p_generation      integer,
    p_silo_name       varchar,
    p_host_name       varchar,
    p_status          integer,
    p_proxy_port      integer,
    p_start_time      timestamptz,
    p_i_am_alive_time timestamptz,
    p_version         integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment_id
       AND Version = p_version
       AND Version < 2147483647;            -- never overflow into an error; report a lost race instead
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
         StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
         p_proxy_port, p_start_time, p_i_am_alive_time);
    RETURN 1;
EXCEPTION WHEN unique_violation THEN
    -- The function body is one savepoint: a duplicate silo row also undoes the version bump.
    RETURN 0;
END
$fn$;

-- Update a silo row's status/suspicions and advance the table version, both or neither.
-- Returns 1 on success, 0 when the expected version is stale or the silo row does not exist.
-- IAmAliveTime only moves forward: a status change carrying an older heartbeat must not make a
-- live silo look stale to the others.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id   varchar,
    p_address         varchar,
    p_port            integer,
    p_generation      integer,
    p_status          integer,
    p_suspect_times   varchar,
    p_i_am_alive_time timestamptz,
    p_version         integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment_id
       AND Version = p_version
       AND Version < 2147483647;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
       SET Status       = p_status,
           SuspectTimes = p_suspect_times,
           IAmAliveTime = GREATEST(IAmAliveTime, p_i_am_alive_time)
     WHERE DeploymentId = p_deployment_id
       AND Address = p_address
       AND Port = p_port
       AND Generation = p_generation;
    IF NOT FOUND THEN
        -- Unknown silo: undo the version bump by failing this function's own savepoint.
        RAISE EXCEPTION USING ERRCODE = 'MR002', MESSAGE = 'orleans_membership_update: no such silo row';
    END IF;
    RETURN 1;
EXCEPTION WHEN SQLSTATE 'MR002' THEN
    RETURN 0;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS row_count FROM created;
$q$),

('InsertMembershipKey', $q$
    SELECT orleans_membership_insert(
        @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS row_count;
$q$),

('UpdateMembershipKey', $q$
    SELECT orleans_membership_update(
        @DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
        @IAmAliveTime, @Version) AS row_count;
$q$),

-- Heartbeat: not versioned, result not checked by Orleans.
('UpdateIAmAlivetimeKey', $q$
    UPDATE OrleansMembershipTable
       SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
     WHERE DeploymentId = @DeploymentId
       AND Address = @Address
       AND Port = @Port
       AND Generation = @Generation;
$q$),

('MembershipReadRowKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
      FROM OrleansMembershipVersionTable v
      LEFT JOIN OrleansMembershipTable m
             ON m.DeploymentId = v.DeploymentId
            AND m.Address = @Address
            AND m.Port = @Port
            AND m.Generation = @Generation
     WHERE v.DeploymentId = @DeploymentId;
$q$),

('MembershipReadAllKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
      FROM OrleansMembershipVersionTable v
      LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
     WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Used by clients (ADO.NET gateway list provider); @Status is Active.
('GatewaysQueryKey', $q$
    SELECT Address, ProxyPort, Generation
      FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Status = @Status
       AND ProxyPort > 0;
$q$),

('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),

-- Fallback used only when CleanupDefunctSiloEntryKey is absent: prune Dead rows whose start,
-- heartbeat and suspicions are all older than the cut-off. Only Dead (6) rows: a Joining or
-- ShuttingDown silo that stopped heart-beating is still for the membership protocol to judge.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Status = 6
       AND IAmAliveTime < @IAmAliveTime
       AND StartTime < @IAmAliveTime
       AND COALESCE(SuspectTimes, '') = '';
$q$),

-- Preferred by 10.4.2: the provider reads all rows, picks eligible Dead rows itself and deletes each
-- one only if it still holds exactly the values it read (so a concurrent change wins).
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM OrleansMembershipTable
     WHERE DeploymentId = @DeploymentId
       AND Address = @Address
       AND Port = @Port
       AND Generation = @Generation
       AND Status = 6
       AND StartTime = @StartTime
       AND IAmAliveTime = @IAmAliveTime
       AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
