//! showrunner-export: a story, or part of it, as one file for someone else's tools. Markdown and
//! Fountain (one clean file), a standard-manuscript DOCX, Final Draft FDX (and FDX back to
//! Fountain), EPUB 3, and PDF (a screenplay in the industry's layout, or a manuscript). No protocol types: the CLI and the language server call [`export`].

pub mod doc;
pub mod docx;
pub mod epub;
pub mod fdx;
pub mod output;
pub mod pdf;
pub mod plain;
pub mod plan;

use std::path::PathBuf;

pub use output::{export, Progress, Written};
pub use plan::{plan, Plan, Target};

/// The formats `showrunner export` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Md,
    Fountain,
    Docx,
    Fdx,
    Epub,
    Pdf,
}

impl Format {
    pub const ALL: &[Format] = &[Format::Docx, Format::Pdf, Format::Fdx, Format::Epub, Format::Md, Format::Fountain];

    pub fn name(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Fountain => "fountain",
            Format::Docx => "docx",
            Format::Fdx => "fdx",
            Format::Epub => "epub",
            Format::Pdf => "pdf",
        }
    }

    /// The output file's extension.
    pub fn extension(self) -> &'static str {
        self.name()
    }
}

impl std::str::FromStr for Format {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Format, ExportError> {
        Format::ALL.iter().copied().find(|f| f.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            ExportError::Format(format!(
                "unknown export format `{s}`: use {}",
                Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Target(String),
    #[error("nothing to export: {0}")]
    Empty(String),
    #[error("{0}")]
    Output(String),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, String),
    #[error("{0}")]
    Render(String),
    #[error("{0} is not supported yet")]
    Unsupported(String),
}
