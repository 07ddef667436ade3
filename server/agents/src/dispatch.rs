//! The dispatcher: free text → the agent that should answer it, and why. Keywords first (the
//! agents' own `keywords`), then an LLM intent call, then the default agent.

use serde::Serialize;

use crate::defs::AgentDef;

/// The agent that answers when nothing else decides.
pub const DEFAULT_AGENT: &str = "scene-writer";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub agent: String,
    /// A sentence for the writer: which agent and why.
    pub reason: String,
    /// `keywords`, `intent` or `default`.
    pub via: &'static str,
}

/// Whether `phrase` occurs in `text` (both lower-case) between word boundaries.
fn has_phrase(text: &str, phrase: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '\'';
    text.match_indices(phrase).any(|(i, m)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !word(c));
        let after = text[i + m.len()..].chars().next().is_none_or(|c| !word(c));
        before && after
    })
}

/// The agent whose keywords the text names most (ties broken by the longest keyword matched);
/// `None` when no keyword matches or two agents tie exactly.
pub fn by_keywords(text: &str, agents: &[AgentDef]) -> Option<Route> {
    let lower = text.to_lowercase();
    let mut scored: Vec<(usize, usize, &AgentDef, Vec<&str>)> = agents
        .iter()
        .map(|a| {
            let hits: Vec<&str> =
                a.keywords.iter().map(String::as_str).filter(|k| !k.is_empty() && has_phrase(&lower, k)).collect();
            let longest = hits.iter().map(|k| k.len()).max().unwrap_or(0);
            (hits.len(), longest, a, hits)
        })
        .filter(|s| s.0 > 0)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    let best = scored.first()?;
    if scored.get(1).is_some_and(|second| (second.0, second.1) == (best.0, best.1)) {
        return None;
    }
    Some(Route {
        agent: best.2.id.clone(),
        reason: format!(
            "{} — your request mentions {}",
            best.2.name,
            best.3.iter().map(|k| format!("“{k}”")).collect::<Vec<_>>().join(", ")
        ),
        via: "keywords",
    })
}

/// The prompt of the intent call: the agents and their descriptions; the answer is one id.
pub fn intent_prompt(text: &str, agents: &[AgentDef]) -> String {
    let mut p = String::from(
        "A writer asked their co-writing assistant the request below. Pick the one agent best suited to answer it.\n\nAgents:\n",
    );
    for a in agents {
        p.push_str(&format!("- {}: {}\n", a.id, a.description));
    }
    p.push_str(&format!("\nRequest: {text}\n\nAnswer with the agent's id only."));
    p
}

/// Reads the intent call's answer: the first agent id it names.
pub fn from_intent(answer: &str, agents: &[AgentDef]) -> Option<Route> {
    let lower = answer.to_lowercase();
    let a = agents
        .iter()
        .filter_map(|a| lower.find(&a.id).map(|i| (i, a)))
        .min_by_key(|(i, a)| (*i, usize::MAX - a.id.len()))?
        .1;
    Some(Route {
        agent: a.id.clone(),
        reason: format!("{} — chosen by the model from your request", a.name),
        via: "intent",
    })
}

/// Routes `text`: keywords, then `intent` (an LLM call; its failure is not fatal), then the
/// default agent.
pub fn route(
    text: &str,
    agents: &[AgentDef],
    intent: &mut dyn FnMut(&str) -> Result<String, showrunner_pipeline::RunError>,
) -> Route {
    if let Some(r) = by_keywords(text, agents) {
        return r;
    }
    let why_not = match intent(&intent_prompt(text, agents)) {
        Ok(answer) => match from_intent(&answer, agents) {
            Some(r) => return r,
            None => "the model named no agent".to_string(),
        },
        Err(e) => format!("the intent call failed: {e}"),
    };
    let name = agents.iter().find(|a| a.id == DEFAULT_AGENT).map(|a| a.name.clone()).unwrap_or(DEFAULT_AGENT.into());
    Route {
        agent: DEFAULT_AGENT.into(),
        reason: format!("{name} — the default: no keyword matched and {why_not}"),
        via: "default",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::catalogue;

    #[test]
    fn keywords_first_then_intent_then_default() {
        let (agents, _) = catalogue(None);
        let r =
            route("Research how lighthouse lamps worked in 1890", &agents, &mut |_| panic!("no intent call needed"));
        assert_eq!((r.agent.as_str(), r.via), ("researcher", "keywords"));
        assert!(r.reason.contains("research"), "{}", r.reason);
        let r = route("Punch up the dialogue between Zoë and Łukasz", &agents, &mut |_| panic!("no intent call"));
        assert_eq!(r.agent, "dialogue-doctor");
        let mut asked = String::new();
        let r = route("hmm, what now?", &agents, &mut |p| {
            asked = p.to_string();
            Ok("outliner".into())
        });
        assert_eq!((r.agent.as_str(), r.via), ("outliner", "intent"));
        assert!(asked.contains("scene-writer") && asked.contains("hmm, what now?"));
        let r = route("hmm, what now?", &agents, &mut |_| {
            Err(showrunner_pipeline::RunError::Model("connection refused".into()))
        });
        assert_eq!((r.agent.as_str(), r.via), ("scene-writer", "default"));
        assert!(r.reason.contains("connection refused"), "{}", r.reason);
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert!(has_phrase("a fact check", "fact"));
        assert!(!has_phrase("artefacts", "fact"));
        assert!(has_phrase("what year did it open", "what year"));
    }
}
