-- Which commands (leaves of the command tree) never ran over the period?
SELECT DISTINCT c.command AS command, c.command_hidden AS hidden
FROM telemetry_catalog AS c FINAL
WHERE c.app = {app:String}
  AND NOT c.has_subcommands
  AND c.version = (SELECT max(version) FROM telemetry_catalog FINAL WHERE app = {app:String})
  AND c.command NOT IN (
        SELECT SpanAttributes['command']
        FROM otel_traces
        WHERE ServiceName = {app:String}
          AND SpanAttributes['eventType'] = 'CommandStarted'
          AND Timestamp >= now() - toIntervalDay({days:UInt32})
  )
ORDER BY command
