-- How long do commands take? Duration percentiles per command, in milliseconds.
SELECT
    SpanAttributes['command'] AS command,
    count() AS runs,
    quantileExact(0.5)(JSONExtractUInt(SpanAttributes['eventData'], 'durationMs')) AS p50_ms,
    quantileExact(0.9)(JSONExtractUInt(SpanAttributes['eventData'], 'durationMs')) AS p90_ms,
    quantileExact(0.99)(JSONExtractUInt(SpanAttributes['eventData'], 'durationMs')) AS p99_ms,
    max(JSONExtractUInt(SpanAttributes['eventData'], 'durationMs')) AS max_ms
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command
ORDER BY command
