//! Fixture in pastel's shape: the builder API with aliases, and a dispatcher that calls
//! per-item work. The README tells authors to annotate the dispatcher (`color`: one
//! command per run); `paint` shows what happens when the per-item function is annotated
//! instead: one command per item, and — with no `#[cli_telemetry::main]` here (the
//! fallback) — each of them flushes at its end, all within one deadline per process.
//! Black-box tests: tests/real_shapes.rs.

use clap::{Arg, ArgMatches, Command};
use cli_telemetry::{instrument_command, Telemetry};

fn cli() -> Command {
    Command::new("pst")
        .subcommand_required(true)
        .subcommand(
            Command::new("color")
                .visible_alias("c")
                .about("Shows colors (the dispatcher is annotated)")
                .arg(Arg::new("format").short('f').long("format"))
                .arg(Arg::new("colors").num_args(1..).required(true)),
        )
        .subcommand(
            Command::new("paint")
                .visible_alias("p")
                .about("Paints colors (the per-item function is annotated)")
                .arg(Arg::new("colors").num_args(1..).required(true)),
        )
}

#[instrument_command]
fn color(matches: &ArgMatches) -> Result<(), String> {
    for c in matches.get_many::<String>("colors").into_iter().flatten() {
        show(c)?;
    }
    Ok(())
}

fn show(color: &str) -> Result<(), String> {
    if color == "nocolor" {
        return Err(format!("unknown color ({} chars)", color.len()));
    }
    println!("color of {} chars", color.len());
    Ok(())
}

#[instrument_command(name = "pst paint")]
fn paint_one(color: &str) -> Result<(), String> {
    show(color)
}

fn main() {
    Telemetry::builder("pst")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    // For tests/catalog.rs: every command and option as events name them.
    if std::env::var_os("FIXTURE_PRINT_CATALOG").is_some() {
        println!("{}", cli_telemetry::catalog(&cli()).to_json());
        return;
    }
    let matches = cli_telemetry::get_matches(cli());
    let result = match matches.subcommand() {
        Some(("color", sub)) => color(sub),
        Some(("paint", sub)) => sub
            .get_many::<String>("colors")
            .into_iter()
            .flatten()
            .try_for_each(|c| paint_one(c)),
        _ => unreachable!(),
    };
    if let Err(e) = result {
        eprintln!("[pastel error]: {e}");
        std::process::exit(1);
    }
}
