-- Which options were never used over the period, per command that was used? The catalog
-- of the newest version loaded (sql/load_catalog.sql) is the denominator.
WITH
    used AS (
        SELECT DISTINCT
            SpanAttributes['command'] AS command,
            JSONExtractString(opt, 'name') AS option
        FROM otel_traces
        ARRAY JOIN JSONExtractArrayRaw(SpanAttributes['eventData'], 'commandOptions') AS opt
        WHERE ServiceName = {app:String}
          AND SpanAttributes['eventType'] = 'CommandStarted'
          AND Timestamp >= now() - toIntervalDay({days:UInt32})
    ),
    ran AS (
        SELECT DISTINCT SpanAttributes['command'] AS command
        FROM otel_traces
        WHERE ServiceName = {app:String}
          AND SpanAttributes['eventType'] = 'CommandStarted'
          AND Timestamp >= now() - toIntervalDay({days:UInt32})
    ),
    latest AS (
        SELECT max(version) AS version FROM telemetry_catalog FINAL WHERE app = {app:String}
    )
SELECT c.command AS command, c.option AS option, c.hidden AS hidden
FROM telemetry_catalog AS c FINAL
WHERE c.app = {app:String}
  AND c.version = (SELECT version FROM latest)
  AND c.option != ''
  AND c.command IN (SELECT command FROM ran)
  AND (c.command, c.option) NOT IN (SELECT command, option FROM used)
ORDER BY command, option
