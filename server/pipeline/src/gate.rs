//! Gates: where a run waits for the writer. What kinds there are and what each is called, what
//! a run shows at one (the text under review, and the edit that approving it makes), and the
//! decisions a writer can take — named once here for the terminal, the editor and the protocol.

use serde::{Deserialize, Serialize};

use crate::edit::EditPlan;

/// The kinds of gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// The prompt, before the model is called.
    ReviewPrompt,
    /// The model's answer, before it is applied or saved.
    ApproveOutput,
    /// The judge scored the answer between its thresholds, or it touches a sensitive topic.
    Judge,
    /// The continuity check found names the story does not know.
    Verify,
    /// An agent wants to change the project.
    Tool,
    /// A run another process started and left unfinished: go on with it?
    Resume,
}

impl GateKind {
    pub const ALL: [GateKind; 6] = [
        GateKind::ReviewPrompt,
        GateKind::ApproveOutput,
        GateKind::Judge,
        GateKind::Verify,
        GateKind::Tool,
        GateKind::Resume,
    ];

    /// The name the protocol and the run record use.
    pub fn as_str(self) -> &'static str {
        match self {
            GateKind::ReviewPrompt => "review_prompt",
            GateKind::ApproveOutput => "approve_output",
            GateKind::Judge => "judge",
            GateKind::Verify => "verify",
            GateKind::Tool => "tool",
            GateKind::Resume => "resume",
        }
    }

    /// What the writer is asked, in words.
    pub fn label(self) -> &'static str {
        match self {
            GateKind::ReviewPrompt => "Review the prompt",
            GateKind::ApproveOutput => "Approve the output",
            GateKind::Judge => "The judge wants a human",
            GateKind::Verify => "Continuity check wants a human",
            GateKind::Tool => "The agent wants to change the project",
            GateKind::Resume => "Resume this interrupted run?",
        }
    }
}

/// A gate the run is waiting at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub step: String,
    pub kind: GateKind,
    /// The text under review (the prompt, or the output).
    pub text: String,
    /// The edit that approving this text makes, planned against the text it will apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditPlan>,
    /// Something the writer must know before deciding (the answer is not JSON; the passage the
    /// edit targets is gone; the answer was cut at the token limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the model reasoned before the answer under review: shown (collapsed), never part of
    /// the text that is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// The judge's score of the answer (0–1): at a judge gate, or at the output gate of an
    /// answer a judge passed. What approving many at once goes by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

impl Gate {
    /// A gate that shows its text only.
    pub fn new(step: &str, kind: GateKind, text: &str) -> Gate {
        Gate { step: step.into(), kind, text: text.into(), edit: None, note: None, reasoning: None, confidence: None }
    }
}

/// The decisions at a gate, by name (what a command, a lens or a terminal answer says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    /// Approve an edited text (the same as `approve` with a text).
    Edit,
    Paste,
    Skip,
    ChangeModel,
    Chat,
    Regenerate,
    Reject,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 8] = [
        DecisionKind::Approve,
        DecisionKind::Edit,
        DecisionKind::Paste,
        DecisionKind::Skip,
        DecisionKind::ChangeModel,
        DecisionKind::Chat,
        DecisionKind::Regenerate,
        DecisionKind::Reject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Edit => "edit",
            DecisionKind::Paste => "paste",
            DecisionKind::Skip => "skip",
            DecisionKind::ChangeModel => "change_model",
            DecisionKind::Chat => "chat",
            DecisionKind::Regenerate => "regenerate",
            DecisionKind::Reject => "reject",
        }
    }

    /// The one-letter answer a terminal accepts.
    pub fn key(self) -> char {
        match self {
            DecisionKind::Approve => 'a',
            DecisionKind::Edit => 'e',
            DecisionKind::Paste => 'p',
            DecisionKind::Skip => 's',
            DecisionKind::ChangeModel => 'm',
            DecisionKind::Chat => 'c',
            DecisionKind::Regenerate => 'g',
            DecisionKind::Reject => 'r',
        }
    }

    /// The title of its button or lens.
    pub fn title(self) -> &'static str {
        match self {
            DecisionKind::Approve => "✓ Approve",
            DecisionKind::Edit => "Edit",
            DecisionKind::Paste => "Paste",
            DecisionKind::Skip => "Skip",
            DecisionKind::ChangeModel => "Change model",
            DecisionKind::Chat => "Chat",
            DecisionKind::Regenerate => "Regenerate",
            DecisionKind::Reject => "✗ Reject",
        }
    }

    /// Whether the gate stays open after it (it is asked again with a new text or model).
    pub fn keeps_gate_open(self) -> bool {
        matches!(self, DecisionKind::Chat | DecisionKind::ChangeModel | DecisionKind::Regenerate)
    }

    /// The terminal's menu: `[a]pprove, [e]dit, …`.
    pub fn menu() -> String {
        let words = [
            "[a]pprove",
            "[e]dit in $EDITOR",
            "[p]aste",
            "[s]kip",
            "change [m]odel",
            "[c]hat",
            "re[g]enerate",
            "[r]eject",
        ];
        words.join(", ")
    }
}

impl std::str::FromStr for DecisionKind {
    type Err = String;
    /// A decision's name (`approve`, `change_model`, …) or its terminal key (`a`, `m`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        DecisionKind::ALL
            .into_iter()
            .find(|d| {
                d.as_str() == s
                    || (s.chars().count() == 1 && s.starts_with(d.key()))
                    || (s == "model" && *d == DecisionKind::ChangeModel)
            })
            .ok_or_else(|| {
                let all: Vec<&str> = DecisionKind::ALL.iter().map(|d| d.as_str()).collect();
                format!("unknown decision `{s}`; one of {}", all.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_parse_from_names_and_keys_and_names_round_trip() {
        for d in DecisionKind::ALL {
            assert_eq!(d.as_str().parse::<DecisionKind>(), Ok(d));
            assert_eq!(d.key().to_string().parse::<DecisionKind>(), Ok(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert_eq!("model".parse::<DecisionKind>(), Ok(DecisionKind::ChangeModel));
        assert!("maybe".parse::<DecisionKind>().unwrap_err().contains("change_model"));
        for k in GateKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
