-- What kind of failure, per command? Failed runs (exit code ≠ 0) per command and
-- eventData.errorCategory (a label the tool's author chose, SPEC S-22; '' when the failure
-- named none), with the exit codes seen: exit codes say little, categories say what broke.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
WITH if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
        1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1) AS weight
SELECT
    SpanAttributes['command'] AS command,
    JSONExtractString(SpanAttributes['eventData'], 'errorCategory') AS category,
    toUInt64(round(sum(weight))) AS failed,
    arraySort(groupUniqArray(JSONExtractInt(SpanAttributes['eventData'], 'exitCode'))) AS exit_codes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND JSONExtractInt(SpanAttributes['eventData'], 'exitCode') != 0
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command, category
ORDER BY command, failed DESC, category
