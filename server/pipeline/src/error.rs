//! Why a run, a step or a model call did not go on. Every message is for the writer: it says
//! what happened and, where it can, what to change.

use crate::edit::EditError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The writer (or the editor) cancelled the run.
    #[error("cancelled")]
    Cancelled,
    /// A model call failed; the message names the server, the key or the limit to change.
    #[error("{0}")]
    Model(String),
    /// A step's template does not render.
    #[error("template error: {0}")]
    Template(String),
    /// The writer rejected what a gate showed.
    #[error("the {what} was rejected{}", if why.is_empty() { String::new() } else { format!(": {why}") })]
    Rejected { what: &'static str, why: String },
    /// The judge or the continuity check did not let the output through.
    #[error("{0}")]
    Check(String),
    /// The approved text has nowhere to go.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// Reading or writing the project (its files, its history, its runs) failed.
    #[error("{0}")]
    Store(String),
    /// The editor did not take an approved edit (the text is kept in the run record).
    #[error("{0}")]
    Editor(String),
    /// The run was asked for something it cannot do (no scene, nothing to save, an unknown
    /// pipeline, a step type that does not exist).
    #[error("{0}")]
    Invalid(String),
}

impl RunError {
    /// A store error, by its message.
    pub fn store(e: impl std::fmt::Display) -> RunError {
        RunError::Store(e.to_string())
    }
}
