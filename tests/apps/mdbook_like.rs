//! Fixture in mdbook's shape: the builder API, handlers taking `&ArgMatches`, `main`
//! ending the process with `exit(101)` after a handler error (here
//! `cli_telemetry::exit(101)`), and a handler that exits itself. Black-box tests:
//! tests/real_shapes.rs.

use clap::{Arg, ArgAction, ArgMatches, Command};
use cli_telemetry::{instrument_command, Telemetry};

fn cli() -> Command {
    Command::new("mdb")
        .version("0.5.4")
        .subcommand_required(true)
        .subcommand(
            Command::new("build")
                .about("Builds a book")
                .arg(Arg::new("dest-dir").short('d').long("dest-dir"))
                .arg(Arg::new("open").long("open").action(ArgAction::SetTrue))
                .arg(Arg::new("fail").long("fail").action(ArgAction::SetTrue))
                .arg(Arg::new("dir")),
        )
        .subcommand(
            Command::new("clean").about("Deletes a built book").arg(
                Arg::new("exit")
                    .long("exit")
                    .value_parser(clap::value_parser!(i32)),
            ),
        )
}

#[instrument_command]
fn build(args: &ArgMatches) -> Result<(), String> {
    if args.get_flag("fail") {
        return Err("the book has a broken link".into());
    }
    println!(
        "built into {} chars",
        args.get_one::<String>("dest-dir").map_or(0, String::len)
    );
    Ok(())
}

#[instrument_command]
fn clean(args: &ArgMatches) -> Result<(), String> {
    if let Some(code) = args.get_one::<i32>("exit") {
        println!("clean: exiting with {code}");
        cli_telemetry::exit(*code);
    }
    println!("cleaned");
    Ok(())
}

#[cli_telemetry::main]
fn main() {
    Telemetry::builder("mdb")
        .env_prefix("APP")
        .version("0.5.4")
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    // For tests/catalog.rs: every command and option as events name them.
    if std::env::var_os("FIXTURE_PRINT_CATALOG").is_some() {
        println!("{}", cli_telemetry::catalog(&cli()).to_json());
        return;
    }
    let matches = cli_telemetry::get_matches(cli());
    let res = match matches.subcommand() {
        Some(("build", sub)) => build(sub),
        Some(("clean", sub)) => clean(sub),
        _ => unreachable!(),
    };
    if let Err(e) = res {
        eprintln!("[ERROR] {e}");
        cli_telemetry::exit(101);
    }
}
