-- Which runs were interrupted or killed? A run whose CommandStarted has no CommandExited
-- of the same process (executionID) and command: the person pressed Ctrl-C in a program
-- without a handler for it, the run was killed (SIGKILL, a CI job's timeout, an OOM kill),
-- the machine went down. Such runs have no exit code, so 05–07 (which read CommandExited)
-- never see them. A run still going has no CommandExited yet either: only runs started
-- more than {grace_minutes} minutes ago count (60 is a sane default; more for commands
-- that run for hours). Per command and version, with the share of that command's runs.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
-- clickhouse-client --param_app=werf --param_days=30 --param_grace_minutes=60 \
--   --queries-file queries/10_interrupted_runs.sql
WITH
    started AS (
        SELECT
            SpanAttributes['executionID'] AS execution,
            SpanAttributes['command'] AS command,
            any(JSONExtractString(SpanAttributes['attributes'], 'version')) AS version,
            any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
                   1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS weight,
            min(Timestamp) AS started_at
        FROM otel_traces
        WHERE ServiceName = {app:String}
          AND SpanAttributes['eventType'] = 'CommandStarted'
          AND Timestamp >= now() - toIntervalDay({days:UInt32})
        GROUP BY execution, command
    ),
    exited AS (
        SELECT DISTINCT
            SpanAttributes['executionID'] AS execution,
            SpanAttributes['command'] AS command,
            1 AS has_exit
        FROM otel_traces
        WHERE ServiceName = {app:String}
          AND SpanAttributes['eventType'] = 'CommandExited'
          AND Timestamp >= now() - toIntervalDay({days:UInt32})
    )
SELECT
    s.command AS command,
    s.version AS version,
    toUInt64(round(sum(s.weight))) AS runs,
    toUInt64(round(sumIf(s.weight, e.has_exit = 0))) AS interrupted,
    round(sumIf(s.weight, e.has_exit = 0) / sum(s.weight), 3) AS interrupted_rate
FROM started AS s
LEFT JOIN exited AS e ON s.execution = e.execution AND s.command = e.command
WHERE s.started_at <= now() - toIntervalMinute({grace_minutes:UInt32})
GROUP BY command, version
HAVING interrupted > 0
ORDER BY interrupted DESC, command, version
