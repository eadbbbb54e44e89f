-- Which options are used with each command, and set how (command line or environment)?
SELECT
    SpanAttributes['command'] AS command,
    JSONExtractString(opt, 'name') AS option,
    count() AS runs,
    countIf(JSONExtractBool(opt, 'asCli')) AS from_cli,
    countIf(JSONExtractBool(opt, 'asEnv')) AS from_env
FROM otel_traces
ARRAY JOIN JSONExtractArrayRaw(SpanAttributes['eventData'], 'commandOptions') AS opt
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandStarted'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command, option
ORDER BY command, runs DESC, option
