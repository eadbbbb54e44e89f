-- On which versions and platforms, in CI or not? Processes (execution ids) per version,
-- OS, architecture and CI system.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
SELECT version, os, arch, ci, ci_name, toUInt64(round(sum(weight))) AS processes
FROM (
    SELECT
        SpanAttributes['executionID'] AS execution,
        any(JSONExtractString(SpanAttributes['attributes'], 'version')) AS version,
        any(JSONExtractString(SpanAttributes['attributes'], 'os')) AS os,
        any(JSONExtractString(SpanAttributes['attributes'], 'arch')) AS arch,
        any(JSONExtractBool(SpanAttributes['attributes'], 'ci')) AS ci,
        any(JSONExtractString(SpanAttributes['attributes'], 'ciName')) AS ci_name,
        any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
               1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS weight
    FROM otel_traces
    WHERE ServiceName = {app:String}
      AND SpanAttributes['eventType'] = 'CommandStarted'
      AND Timestamp >= now() - toIntervalDay({days:UInt32})
    GROUP BY execution
)
GROUP BY version, os, arch, ci, ci_name
ORDER BY version, os, arch, ci, ci_name
