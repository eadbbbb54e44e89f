-- The catalog (`<app> telemetry catalog`, cli_telemetry::catalog): every command and
-- option of one version of the tool, named as events name them. One row per (command,
-- option); a command with no options has one row with option = ''. Load a version's
-- catalog with sql/load_catalog.sql.
CREATE TABLE IF NOT EXISTS telemetry_catalog (
    app LowCardinality(String),
    version LowCardinality(String),
    command String,
    has_subcommands Bool,
    command_hidden Bool,
    option String,
    long String,
    short String,
    env String,
    global Bool,
    hidden Bool,
    takes_value Bool
) ENGINE = ReplacingMergeTree
ORDER BY (app, version, command, option);
