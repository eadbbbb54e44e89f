-- How long do commands take? Duration percentiles per command, in milliseconds.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
-- The percentiles are of the runs kept: a sample that stands for all runs while a
-- command's runs share one rate (the author's); `runs` is scaled like every count.
WITH if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
        1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1) AS weight
SELECT
    SpanAttributes['command'] AS command,
    toUInt64(round(sum(weight))) AS runs,
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
