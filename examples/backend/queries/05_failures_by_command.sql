-- What fails, and where? Per command: runs, failed runs (exit code ≠ 0), failure rate,
-- and the exit codes seen.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
WITH if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
        1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1) AS weight
SELECT
    SpanAttributes['command'] AS command,
    toUInt64(round(sum(weight))) AS runs,
    toUInt64(round(sumIf(weight, JSONExtractInt(SpanAttributes['eventData'], 'exitCode') != 0))) AS failed,
    round(sumIf(weight, JSONExtractInt(SpanAttributes['eventData'], 'exitCode') != 0) / sum(weight), 3) AS failure_rate,
    arraySort(groupUniqArray(JSONExtractInt(SpanAttributes['eventData'], 'exitCode'))) AS exit_codes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command
ORDER BY failed DESC, command
