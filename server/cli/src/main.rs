//! `showrunner`: the command line, and (in later milestones) the language server entry.
//!
//! Subcommands parse and validate their arguments first (clap), then call into the store and
//! model crates. Output for people goes to stdout; progress goes to stderr and only when stderr
//! is a terminal.

mod batch;
mod check;
mod context;
mod export;
mod history;
mod init;
mod models;
mod paths;
mod pictures;
mod plan;
mod run;
mod search;

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
    /// The language server, on stdio (for editors)
    Lsp {
        /// Write the log to this file (default: a file per project in $XDG_STATE_HOME/showrunner/,
        /// i.e. ~/.local/state/showrunner/; also SHOWRUNNER_LOG_FILE)
        #[arg(long, value_name = "PATH")]
        log_file: Option<PathBuf>,
    },
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
    /// Show the context the engine assembles for a scene: every item with its reason and tokens
    Context {
        /// A scene file (Markdown or Fountain)
        file: PathBuf,
        /// Cursor position LINE:COL (1-based); mentions near it rank higher
        #[arg(long, value_name = "LINE:COL")]
        at: Option<String>,
        /// Token budget (default: `context.budget_tokens` of the project)
        #[arg(long)]
        budget: Option<usize>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Timelines: alternate versions of the story, as branches of the history
    Timeline {
        #[command(subcommand)]
        action: TimelineAction,
    },
    /// The history of the project, a bucket (by id) or a file, newest first
    Log {
        /// A bucket id or a file
        what: Option<String>,
        /// The project (default: the current folder's)
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Buckets: create one through the history's write path
    Bucket {
        #[command(subcommand)]
        action: BucketAction,
    },
    /// Run a pipeline on a scene: streams to the terminal, asks at every gate (--yes approves)
    Run {
        pipeline: String,
        file: PathBuf,
        #[arg(long)]
        yes: bool,
        /// The model for every model step (provider/model), above the cascade
        #[arg(long)]
        model: Option<String>,
        /// Replay a recorded run (a run id or a run JSON file): recorded answers, no network
        #[arg(long, value_name = "RUN")]
        replay: Option<String>,
        /// The question, for the research pipeline
        #[arg(long)]
        question: Option<String>,
        /// The selection, for pipelines that work on one: whole lines, 1-based (e.g. 13-15)
        #[arg(long, value_name = "A-B")]
        lines: Option<String>,
        /// The selection as editor cursor positions, 1-based line:column in characters
        /// (e.g. 7:1-9:24: from line 7 column 1 up to line 9 column 24)
        #[arg(long, value_name = "L:C-L:C")]
        range: Option<String>,
    },
    /// Run a pipeline on many scenes at once, from a durable queue: `batch PIPELINE TARGETS…`;
    /// `batch status|cancel|retry-failed|work [BATCH]`
    Batch(batch::BatchArgs),
    /// Turn a goal into a plan of pipeline runs (the outliner answers; you approve the plan),
    /// then run it as one batch: `plan "summarize every scene of ch01, then check continuity"`
    Plan(plan::PlanArgs),
    /// List runs (id, pipeline, state, scene)
    Runs {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Continue a run after a crash or restart (completed steps are not run again)
    Resume {
        run: String,
        #[arg(long)]
        yes: bool,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Show providers, models, and how each step and scene resolves through the model cascade
    Models {
        /// A project folder (default: the current folder's project)
        dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The relation graph of buckets and the story structure, for pictures (Mermaid, DOT, JSON)
    Graph(pictures::GraphArgs),
    /// Word counts per scene and container, scenes per POV, mentions per entity per chapter
    Stats(pictures::StatsArgs),
    /// The story bible as an MCP server on stdio, for agents (Claude Code, Cursor, Zed, Continue…):
    /// one project, or every project under DIR; proposals wait for approval in the editors
    Mcp {
        /// A project folder, or a folder holding projects (default: the current folder)
        dir: Option<PathBuf>,
    },
    /// Search the story (scenes, buckets, research) and the project's memory (every run's
    /// prompts, answers, reasoning, verdicts, defects and decisions; history events)
    Search(search::SearchArgs),
    /// Export the story, a part of it or a scene as one file: a standard-manuscript DOCX, Final
    /// Draft FDX, EPUB, Markdown or Fountain (saved files of the current timeline, bodies only)
    Export(export::ExportArgs),
    /// Import a screenplay from another tool: Final Draft (.fdx) to Fountain
    Import(export::ImportArgs),
}

#[derive(Subcommand)]
enum TimelineAction {
    /// List timelines (* marks the current one)
    List {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Create a timeline from the current head, or from an event (--from ID or number)
    Create {
        name: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Record unsaved changes, then rewrite the project's files to another timeline's state
    Switch {
        name: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum BucketAction {
    /// Create a bucket file (buckets/KIND/ID.yaml) with an id made from its name
    Create {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long = "alias")]
        aliases: Vec<String>,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

/// The server allocates from tokio's worker threads and the stdin/stdout threads alike; glibc gives
/// each thread its own arena, and a long session's RSS then creeps up with memory that is free but
/// scattered over arenas (the soak measured +54% over 15,000 edits; +19% with one arena). Two
/// arenas keep it flat at no measurable cost to latency.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// What a write to a closed pipe does. `quiet`: SIGPIPE's default action ends the process
/// quietly (status 141 in a shell). Otherwise SIGPIPE is ignored (Rust's default) and the write
/// fails with `EPIPE`, which `println!` turns into a panic.
fn closed_pipe_ends_process(quiet: bool) {
    #[cfg(unix)]
    // SAFETY: only the disposition of SIGPIPE changes; no handler (no Rust code) is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, if quiet { libc::SIG_DFL } else { libc::SIG_IGN });
    }
    #[cfg(not(unix))]
    let _ = quiet;
}

fn run_lsp(log_file: Option<PathBuf>) -> anyhow::Result<bool> {
    limit_malloc_arenas();
    if let Some(path) = log_file {
        showrunner_lsp::logging::ask_for_file(path);
    }
    // The language server keeps writes to a closed pipe as errors: a client that went away
    // ends the session through the transport, not a signal.
    closed_pipe_ends_process(false);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let clean = runtime.block_on(showrunner_lsp::run_stdio());
    // The stdin reader may still be blocked in a read the client never completes: do not wait.
    runtime.shutdown_background();
    Ok(clean)
}

fn run_mcp(dir: PathBuf) -> anyhow::Result<bool> {
    // Like the language server: a client that went away ends the session through the transport.
    closed_pipe_ends_process(false);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(showrunner_mcp::serve_stdio(dir))?;
    runtime.shutdown_background();
    Ok(true)
}

fn main() -> ExitCode {
    // A reader that stops early (`showrunner runs | head -1`) ends the command quietly, as it
    // does for every other command-line tool, before clap or any command writes a line.
    closed_pipe_ends_process(true);
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lsp { log_file } => run_lsp(log_file),
        Command::Init { dir, example } => init::run(dir.unwrap_or_else(|| PathBuf::from(".")), example).map(|()| true),
        Command::Check { dir, format, hints } => check::run(&dir.unwrap_or_else(|| PathBuf::from(".")), format, hints),
        Command::Context { file, at, budget, format } => {
            context::run(&file, at.as_deref(), budget, format).map(|()| true)
        }
        Command::Timeline { action: TimelineAction::List { dir, format } } => {
            history::list(&dir, format).map(|()| true)
        }
        Command::Timeline { action: TimelineAction::Create { name, from, dir } } => {
            history::create(&dir, &name, from.as_deref()).map(|()| true)
        }
        Command::Timeline { action: TimelineAction::Switch { name, dir } } => {
            history::switch(&dir, &name).map(|()| true)
        }
        Command::Log { what, dir, format } => history::log(&dir, what.as_deref(), format).map(|()| true),
        Command::Bucket { action: BucketAction::Create { kind, name, aliases, parent, dir } } => {
            history::create_bucket(&dir, &kind, &name, &aliases, parent.as_deref()).map(|()| true)
        }
        Command::Run { pipeline, file, yes, model, replay, question, lines, range } => run::run(
            &pipeline,
            &file,
            &run::Options {
                yes,
                model: model.as_deref(),
                replay: replay.as_deref(),
                question: question.as_deref(),
                lines: lines.as_deref(),
                range: range.as_deref(),
            },
        ),
        Command::Batch(args) => batch::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Runs { dir } => run::list(&dir).map(|()| true),
        Command::Resume { run, yes, dir } => run::resume(&dir, &run, yes),
        Command::Models { dir, format } => {
            models::run(&dir.unwrap_or_else(|| PathBuf::from(".")), format).map(|()| true)
        }
        Command::Graph(args) => pictures::run_graph(&args).map(|()| true),
        Command::Stats(args) => pictures::run_stats(&args).map(|()| true),
        Command::Search(args) => search::run(&args),
        Command::Export(args) => export::run(&args).map(|()| true),
        Command::Import(args) => export::import(&args).map(|()| true),
        Command::Mcp { dir } => run_mcp(dir.unwrap_or_else(|| PathBuf::from("."))),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // A reader that stopped reading (`showrunner log | head`) is not an error.
        Err(err)
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("showrunner: {err:#}");
            ExitCode::from(2)
        }
    }
}
