//! Pipelines ("glass box"): definitions validated into a DAG, the built-in templates, and the run
//! engine (every model call recorded, every gate asked, state saved after each step).

pub mod def;
pub mod engine;

pub use def::{catalogue, parse, DefError, Layer, Pipeline, Step, BUILTIN, STEP_TYPES};
pub use engine::{
    ask, execute, model_name, render, Call, Decision, Effects, Exchange, Gate, Gates, Generated, Model, Persona, Run,
    RunState, StepRecord, StepState,
};
