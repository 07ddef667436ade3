//! Diagnostics: the codes of spec 3.1 and their default severities.

use std::fmt;

use crate::text::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Entity link hint on a mention.
    SR001,
    /// Fountain character cue with no bucket.
    SR002,
    /// Capitalised name seen 3+ times with no bucket.
    SR003,
    /// Reference to an unknown bucket id.
    SR004,
    /// Alias shared by two or more buckets.
    SR005,
    /// Structure violation: parent of a wrong level, or a cycle.
    SR006,
    /// Continuity: mention outside the entity's timeline span.
    SR007,
    /// YAML cannot be parsed.
    SR010,
    /// Bucket misses `kind` or `name`, has an unknown kind, or is not a mapping.
    SR011,
    /// Two buckets (or two scenes) share an id.
    SR012,
    /// Attribute breaks its kind's schema.
    SR013,
    /// Unknown key (or unusable value) in `showrunner.yaml`.
    SR014,
    /// A file that cannot be read as text: not UTF-8, too large, unreadable, a symlink loop.
    /// Not in spec 3.1's table; added because those files need a diagnostic too.
    SR015,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::SR001 => "SR001",
            Code::SR002 => "SR002",
            Code::SR003 => "SR003",
            Code::SR004 => "SR004",
            Code::SR005 => "SR005",
            Code::SR006 => "SR006",
            Code::SR007 => "SR007",
            Code::SR010 => "SR010",
            Code::SR011 => "SR011",
            Code::SR012 => "SR012",
            Code::SR013 => "SR013",
            Code::SR014 => "SR014",
            Code::SR015 => "SR015",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Code::SR001 => Severity::Hint,
            Code::SR003 => Severity::Information,
            Code::SR002 | Code::SR005 | Code::SR007 | Code::SR014 => Severity::Warning,
            Code::SR004 | Code::SR006 | Code::SR010 | Code::SR011 | Code::SR012 | Code::SR013 | Code::SR015 => {
                Severity::Error
            }
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        }
    }
}

/// One problem in one file, at a byte range of that file's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub range: TextRange,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: Code, range: TextRange, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, severity: code.default_severity(), range, message: message.into() }
    }

    pub fn with_severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }
}
