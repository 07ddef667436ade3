//! Logging: tracing to stderr (never stdout, which carries the protocol) and, once a project is
//! known, also to `.showrunner/logs/lsp.log` of the first project. `SHOWRUNNER_LOG` sets the
//! filter (default `info`). Messages never contain API keys: keys are only read from the
//! environment by the model client, and nothing logs them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

static FILE: OnceLock<Mutex<File>> = OnceLock::new();

pub struct Tee;

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        if let Some(f) = FILE.get() {
            if let Ok(mut f) = f.lock() {
                let _ = f.write_all(buf);
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

pub fn init() {
    let filter = EnvFilter::try_from_env("SHOWRUNNER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_writer(Tee).with_ansi(false).with_env_filter(filter).try_init();
}

/// Starts copying the log to `<root>/.showrunner/logs/lsp.log` (first call wins).
pub fn log_to_project(root: &Path) {
    if FILE.get().is_some() {
        return;
    }
    let dir = root.join(".showrunner").join("logs");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(f) = OpenOptions::new().create(true).append(true).open(dir.join("lsp.log")) {
        let _ = FILE.set(Mutex::new(f));
    }
}
