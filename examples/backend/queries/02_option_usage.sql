-- Which options are used with each command, and set how (command line or environment)?
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
WITH if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
        1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1) AS weight
SELECT
    SpanAttributes['command'] AS command,
    JSONExtractString(opt, 'name') AS option,
    toUInt64(round(sum(weight))) AS runs,
    toUInt64(round(sumIf(weight, JSONExtractBool(opt, 'asCli')))) AS from_cli,
    toUInt64(round(sumIf(weight, JSONExtractBool(opt, 'asEnv')))) AS from_env
FROM otel_traces
ARRAY JOIN JSONExtractArrayRaw(SpanAttributes['eventData'], 'commandOptions') AS opt
WHERE ServiceName = {app:String}
  AND SpanAttributes['eventType'] = 'CommandStarted'
  AND Timestamp >= now() - toIntervalDay({days:UInt32})
GROUP BY command, option
ORDER BY command, runs DESC, option
