-- Loads one version's catalog:
--   clickhouse-client --param_version=1.2.0 --param_catalog="$(werf telemetry catalog)" \
--     --queries-file sql/load_catalog.sql
INSERT INTO telemetry_catalog
SELECT
    JSONExtractString({catalog:String}, 'app') AS app,
    {version:String} AS version,
    JSONExtractString(cmd, 'path') AS command,
    JSONExtractBool(cmd, 'hasSubcommands') AS has_subcommands,
    JSONExtractBool(cmd, 'hidden') AS command_hidden,
    JSONExtractString(opt, 'name') AS option,
    JSONExtractString(opt, 'long') AS long,
    JSONExtractString(opt, 'short') AS short,
    JSONExtractString(opt, 'env') AS env,
    JSONExtractBool(opt, 'global') AS global,
    JSONExtractBool(opt, 'hidden') AS hidden,
    JSONExtractBool(opt, 'takesValue') AS takes_value
FROM (SELECT arrayJoin(JSONExtractArrayRaw({catalog:String}, 'commands')) AS cmd)
LEFT ARRAY JOIN JSONExtractArrayRaw(cmd, 'options') AS opt;
