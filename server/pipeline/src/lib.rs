//! Pipelines ("glass box"): definitions validated into a DAG, the built-in templates, and the run
//! engine (every model call recorded, every gate asked, state saved after each step).

pub mod dag;
pub mod def;
pub mod edit;
pub mod engine;
pub mod error;
pub mod gate;

pub use def::{catalogue, parse, DefError, Layer, Pipeline, Step, StepKind, BUILTIN};
pub use edit::{EditError, EditMode, EditPlan, Selection};
pub use engine::{
    ask, ask_showing, execute, model_name, render, Call, Decision, DecisionKind, DecisionRecord, DefectReport, Effects,
    Exchange, Gate, GateKind, Gates, Generated, Model, Persona, Run, RunState, StepRecord, StepState,
};
pub use error::RunError;
