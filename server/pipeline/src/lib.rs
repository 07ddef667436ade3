//! Pipelines ("glass box"): definitions validated into a DAG, and the built-in templates.
//! The run engine (durable runs, gates, replay) builds on these.

pub mod def;

pub use def::{catalogue, parse, DefError, Layer, Pipeline, Step, BUILTIN, STEP_TYPES};
