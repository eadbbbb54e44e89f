-- Did a release change what fails? Exit codes by version.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
WITH if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
        1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1) AS weight
SELECT
    JSONExtractString(SpanAttributes['attributes'], 'version') AS version,
    JSONExtractInt(SpanAttributes['eventData'], 'exitCode') AS exit_code,
    toUInt64(round(sum(weight))) AS runs
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY version, exit_code
ORDER BY version, exit_code
