-- Who is typing? Processes per AI coding agent (attributes.agent: the agents' documented
-- variables or AI_AGENT's name, SPEC S-22; '' when none was told — a person, a script or
-- an agent the library can't tell), with the share that failed.
-- Sampled tools (SPEC S-20): each event stands for 1 / attributes.sampleRate runs' events
-- (1 when absent), so counts are sums of that weight: estimates when any run was sampled.
SELECT
    agent,
    toUInt64(round(sum(weight))) AS processes,
    toUInt64(round(sumIf(weight, exit_code != 0))) AS failed,
    round(sumIf(weight, exit_code != 0) / sum(weight), 3) AS failure_rate
FROM (
    SELECT
        SpanAttributes['executionID'] AS execution,
        any(JSONExtractString(SpanAttributes['attributes'], 'agent')) AS agent,
        any(JSONExtractInt(SpanAttributes['eventData'], 'exitCode')) AS exit_code,
        any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
               1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS weight
    FROM otel_traces
    WHERE ServiceName = {app:String}
      AND SpanAttributes['eventType'] = 'CommandExited'
      AND Timestamp >= now() - toIntervalDay({days:UInt32})
    GROUP BY execution
)
GROUP BY agent
ORDER BY processes DESC, agent
