-- What fails, and where? Per command: runs, failed runs (exit code ≠ 0), failure rate,
-- and the exit codes seen.
SELECT
    SpanAttributes['command'] AS command,
    count() AS runs,
    countIf(JSONExtractInt(SpanAttributes['eventData'], 'exitCode') != 0) AS failed,
    round(failed / runs, 3) AS failure_rate,
    arraySort(groupUniqArray(JSONExtractInt(SpanAttributes['eventData'], 'exitCode'))) AS exit_codes
FROM otel_traces
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandExited'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command
ORDER BY failed DESC, command
