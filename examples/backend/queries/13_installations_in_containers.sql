-- Installations, with containers counted apart: an ephemeral container makes a fresh
-- installation id every time it starts, so installations seen inside containers
-- (attributes.container: docker, podman, kubernetes, other; SPEC S-22) would inflate
-- "users" many times over. Per container kind ('' outside one): installation ids seen,
-- processes, and processes per installation (≈ 1 in ephemeral containers).
-- Installations are distinct ids seen (a lower bound with sampling); processes are scaled.
SELECT
    container,
    uniqExactIf(user, user != '') AS installations,
    toUInt64(round(sum(weight))) AS processes,
    round(sum(weight) / greatest(uniqExactIf(user, user != ''), 1), 2) AS processes_per_installation
FROM (
    SELECT
        SpanAttributes['executionID'] AS execution,
        any(JSONExtractString(SpanAttributes['attributes'], 'container')) AS container,
        any(SpanAttributes['userID']) AS user,
        any(if(JSONHas(SpanAttributes['attributes'], 'sampleRate'),
               1 / JSONExtractFloat(SpanAttributes['attributes'], 'sampleRate'), 1)) AS weight
    FROM otel_traces
    WHERE ServiceName = {app:String}
      AND SpanAttributes['eventType'] = 'CommandStarted'
      AND Timestamp >= now() - toIntervalDay({days:UInt32})
    GROUP BY execution
)
GROUP BY container
ORDER BY container
