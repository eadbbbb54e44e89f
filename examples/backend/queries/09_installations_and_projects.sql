-- How many installations (installation ids, when the tool sends them: SPEC S-16; CI runs
-- have none) and projects (project ids, "" outside a git repository) use it, per version?
-- Processes are scaled by the sample rate like every count. Installations and projects
-- are distinct ids seen, not runs: sampling cannot be divided out of them, and with a
-- rate below 1 they are a lower bound (one whose runs were all dropped is not seen).
SELECT
    version,
    uniqExactIf(user, user != '') AS installations,
    uniqExactIf(project, project != '') AS projects,
    toUInt64(round(sum(weight))) AS processes
FROM (
    SELECT
        SpanAttributes['executionID'] AS execution,
        any(JSONExtractString(SpanAttributes['attributes'], 'version')) AS version,
        any(SpanAttributes['userID']) AS user,
        any(SpanAttributes['projectID']) AS project,
        any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
               1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS weight
    FROM otel_traces
    WHERE ServiceName = {app:String}
      AND SpanAttributes['eventType'] = 'CommandStarted'
      AND Timestamp >= now() - toIntervalDay({days:UInt32})
    GROUP BY execution
)
GROUP BY version
ORDER BY version
