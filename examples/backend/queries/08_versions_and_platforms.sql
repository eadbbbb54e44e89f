-- On which versions and platforms, in CI or not? Processes (execution ids) per version,
-- OS, architecture and CI system.
SELECT
    JSONExtractString(SpanAttributes['attributes'], 'version') AS version,
    JSONExtractString(SpanAttributes['attributes'], 'os') AS os,
    JSONExtractString(SpanAttributes['attributes'], 'arch') AS arch,
    JSONExtractBool(SpanAttributes['attributes'], 'ci') AS ci,
    JSONExtractString(SpanAttributes['attributes'], 'ciName') AS ci_name,
    uniqExact(SpanAttributes['executionID']) AS processes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandStarted'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY version, os, arch, ci, ci_name
ORDER BY version, os, arch, ci, ci_name
