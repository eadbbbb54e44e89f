-- Which commands are used, and how often? Runs (CommandStarted) and processes per command.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
-- clickhouse-client --param_app=werf --param_days=30 --queries-file queries/01_runs_per_command.sql
SELECT
    command,
    toUInt64(round(sum(process_runs))) AS runs,
    toUInt64(round(sum(process_weight))) AS processes
FROM (
    SELECT
        SpanAttributes['command'] AS command,
        SpanAttributes['executionID'] AS execution,
        any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
               1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS process_weight,
        count() * process_weight AS process_runs
    FROM otel_traces
    WHERE ServiceName = {app:String}
      AND SpanAttributes['eventType'] = 'CommandStarted'
      AND Timestamp >= now() - toIntervalDay({days:UInt32})
    GROUP BY command, execution
)
GROUP BY command
ORDER BY runs DESC, command
