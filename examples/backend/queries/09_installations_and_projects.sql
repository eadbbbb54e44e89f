-- How many installations (installation ids, when the tool sends them: SPEC S-16; CI runs
-- have none) and projects (project ids, "" outside a git repository) use it, per version?
SELECT
    JSONExtractString(SpanAttributes['attributes'], 'version') AS version,
    uniqExactIf(SpanAttributes['userID'], SpanAttributes['userID'] != '') AS installations,
    uniqExactIf(SpanAttributes['projectID'], SpanAttributes['projectID'] != '') AS projects,
    uniqExact(SpanAttributes['executionID']) AS processes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandStarted'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY version
ORDER BY version
