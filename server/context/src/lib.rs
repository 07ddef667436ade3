//! The context engine: what the AI will know about a scene, why each piece is there, what was
//! left out for lack of budget; and the model cascade: which model runs a step, and why.
//!
//! - [`engine`]: candidate ranking and packing into a token budget ([`ContextEngine::assemble`]);
//! - [`render`]: buckets as Markdown at a story position (progressions applied);
//! - [`research`]: research buckets by keyword and in-memory BM25;
//! - [`tokens`]: token counting (o200k, [`bpe`]) behind a trait;
//! - [`cascade`]: the one place the model for a step is resolved.
//!
//! Pure: it reads an [`showrunner_model::analysis::Analysis`] and does no I/O.

pub mod bpe;
pub mod cascade;
pub mod engine;
pub mod goals;
pub mod graph;
pub mod render;
pub mod research;
pub mod stats;
pub mod tokens;

pub use engine::{render_markdown, Context, ContextEngine, ContextItem, Dropped, Form, Recall, Request};
pub use showrunner_model::story;
