//! Agents and runs. [`bible`]: the story bible's questions (a bucket at a position, a scene,
//! mentions, search) for the agents' tools and the MCP server. [`defs`]: the ten built-in agents (Markdown with frontmatter, embedded in
//! the binary) and project overrides. [`dispatch`]: free text → an agent, with the reason.
//! [`plan`]: a goal → a checked plan of tasks → one batch of queued runs. [`batch`]: queueing
//! runs, which scenes targets mean, a taken run's context, a batch's counts.
//! [`react`]: an agent's ReAct loop with tools, every mutating tool behind a gate. [`studio`]:
//! what the CLI and the language server share to run a pipeline on a project — the live and
//! replayed models, the run's variables, and the effects that go through the history write path.

pub mod batch;
pub mod bible;
pub mod defs;
pub mod dispatch;
pub mod plan;
pub mod proposal;
pub mod react;
pub mod studio;

pub use defs::AgentDef;
