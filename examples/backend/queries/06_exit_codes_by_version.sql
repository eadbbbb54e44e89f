-- Did a release change what fails? Exit codes by version.
SELECT
    JSONExtractString(SpanAttributes['attributes'], 'version') AS version,
    JSONExtractInt(SpanAttributes['eventData'], 'exitCode') AS exit_code,
    count() AS runs
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY version, exit_code
ORDER BY version, exit_code
