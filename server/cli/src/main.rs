//! `showrunner`: the command line, and (in later milestones) the language server entry.
//!
//! Subcommands parse and validate their arguments first (clap), then call into the store and
//! model crates. Output for people goes to stdout; progress goes to stderr and only when stderr
//! is a terminal.

mod check;
mod init;
mod paths;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "showrunner",
    version,
    about = "A language server and co-writing studio for novels, series and screenplays"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new project (or, with --example, a small complete story to try everything on)
    Init {
        /// Where to create it (default: the current folder)
        dir: Option<PathBuf>,
        /// Write the bundled example story "The Lighthouse"
        #[arg(long)]
        example: bool,
    },
    /// Index every project in DIR and print every diagnostic
    Check {
        /// A project folder, a folder holding projects, or a folder inside a project
        dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also print SR001 entity-link hints (one per mention)
        #[arg(long)]
        hints: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { dir, example } => init::run(dir.unwrap_or_else(|| PathBuf::from(".")), example).map(|()| true),
        Command::Check { dir, format, hints } => check::run(&dir.unwrap_or_else(|| PathBuf::from(".")), format, hints),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("showrunner: {err:#}");
            ExitCode::from(2)
        }
    }
}
