-- Which commands are used, and how often? Runs (CommandStarted) per command.
-- clickhouse-client --param_app=werf --param_days=30 --queries-file queries/01_runs_per_command.sql
SELECT
    SpanAttributes['command'] AS command,
    count() AS runs,
    uniqExact(SpanAttributes['executionID']) AS processes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandStarted'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command
ORDER BY runs DESC, command
