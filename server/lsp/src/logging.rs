//! Logging: tracing to stderr (never stdout, which carries the protocol) and to a file in the
//! writer's state folder, never into the project: `$XDG_STATE_HOME/showrunner/` (default
//! `~/.local/state/showrunner/`), once a project is known. One file per project,
//! `lsp-<folder>-<hash of its path>.log`, appended to by every session on it, every line marked
//! with the process id (two editors on one project write to the same file); it is renamed to
//! `….log.1` (replacing the previous one) when a session starts and finds it over 5 MB.
//! The writer may ask for a file of their own instead — `showrunner lsp --log-file PATH` or
//! `SHOWRUNNER_LOG_FILE=PATH` (the flag wins) — which is written from the start, for every project.
//! When no file can be written, the log goes to stderr only and the server carries on.
//! `SHOWRUNNER_LOG` sets the filter (default `info`). Messages never contain API keys: keys are
//! only read from the environment by the model client, and nothing logs them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

static FILE: OnceLock<Mutex<File>> = OnceLock::new();
/// The file the writer asked for, set before [`init`].
static ASKED: OnceLock<PathBuf> = OnceLock::new();

/// A log file is renamed to `….1` when a session starts and finds it larger than this.
const ROTATE_BYTES: u64 = 5 << 20;

pub struct Tee;

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        if let Some(f) = FILE.get() {
            if let Ok(mut f) = f.lock() {
                let _ = f.write_all(&with_pid(buf));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Tee {
    type Writer = Tee;
    fn make_writer(&'a self) -> Tee {
        Tee
    }
}

/// Every line of `buf` (one event, written whole) begins with `[pid N] `.
fn with_pid(buf: &[u8]) -> Vec<u8> {
    let mark = format!("[pid {}] ", std::process::id());
    let mut out = Vec::with_capacity(buf.len() + mark.len());
    for line in buf.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(mark.as_bytes());
        out.extend_from_slice(line);
    }
    out
}

/// The writer asks for the log in `path` (`--log-file`); before [`init`].
pub fn ask_for_file(path: PathBuf) {
    let _ = ASKED.set(path);
}

pub fn init() {
    let filter = EnvFilter::try_from_env("SHOWRUNNER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_writer(Tee).with_ansi(false).with_env_filter(filter).try_init();
    let asked = ASKED
        .get()
        .cloned()
        .or_else(|| std::env::var_os("SHOWRUNNER_LOG_FILE").filter(|v| !v.is_empty()).map(PathBuf::from));
    if let Some(path) = asked {
        start_file(&path);
    }
}

/// The user's state folder for Showrunner: `$XDG_STATE_HOME/showrunner` when that is an
/// absolute path (as the XDG specification asks), else `~/.local/state/showrunner`; on Windows,
/// `%LOCALAPPDATA%\showrunner\state`. `None` when there is no home to put it in.
pub fn state_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").and_then(absolute) {
        return Some(dir.join("showrunner"));
    }
    if cfg!(windows) {
        if let Some(dir) = std::env::var_os("LOCALAPPDATA").and_then(absolute) {
            return Some(dir.join("showrunner").join("state"));
        }
    }
    std::env::var_os("HOME").and_then(absolute).map(|home| home.join(".local/state/showrunner"))
}

/// The log file of the project at `root` in `dir`: `lsp-<folder>-<hash>.log`, the folder's name
/// for people and a hash of the whole path so that two projects of one name keep apart.
pub fn project_log(dir: &Path, root: &Path) -> PathBuf {
    let name: String = root
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' })
                .take(40)
                .collect()
        })
        .unwrap_or_default();
    // FNV-1a: the same name for the same path in every build.
    let hash = root
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    dir.join(format!("lsp-{}-{:08x}.log", if name.is_empty() { "project" } else { &name }, hash as u32))
}

/// Starts copying the log to the state folder's file for the project at `root` (the first
/// project wins; nothing changes when the writer asked for a file of their own).
pub fn log_for_project(root: &Path) {
    if FILE.get().is_some()
        || ASKED.get().is_some()
        || std::env::var_os("SHOWRUNNER_LOG_FILE").is_some_and(|v| !v.is_empty())
    {
        return;
    }
    match state_dir() {
        Some(dir) => start_file(&project_log(&dir, root)),
        None => tracing::warn!("no state folder (neither XDG_STATE_HOME nor HOME is set): logging to stderr only"),
    }
}

/// Opens `path` for appending (creating its folder), rotating it first when it is large.
fn start_file(path: &Path) {
    let opened = (|| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
            let mut old = path.as_os_str().to_owned();
            old.push(".1");
            std::fs::rename(path, old)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path)
    })();
    match opened {
        Ok(f) => {
            if FILE.set(Mutex::new(f)).is_ok() {
                tracing::info!(version = env!("CARGO_PKG_VERSION"), "showrunner lsp logging to {}", path.display());
            }
        }
        Err(e) => tracing::warn!("cannot write the log to {}: {e}; logging to stderr only", path.display()),
    }
}
