//! Domain diagnostics → `textDocument/publishDiagnostics`.

use showrunner_model::analysis::Analysis;
use showrunner_model::diag::{Code, Diagnostic, Severity};
use showrunner_model::text::LineIndex;
use tower_lsp_server::ls_types::{self as lsp, DiagnosticSeverity, NumberOrString};

use crate::pos::{to_range, Encoding};

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

pub fn to_lsp(text: &str, lines: &LineIndex, d: &Diagnostic, enc: Encoding) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: to_range(text, lines, &d.range, enc),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("showrunner".into()),
        message: d.message.clone(),
        tags: (d.code == Code::SR001).then(Vec::new),
        ..Default::default()
    }
}

/// The domain diagnostics of one file (SR001 hints included only when the project sets
/// `entities: { link_hints: true }`), to be converted later without holding on to the analysis.
pub fn gather(analysis: &Analysis, file: usize) -> Vec<Diagnostic> {
    let mut out = analysis.diagnostics[file].clone();
    if analysis.config.editor_hints() {
        if let Some(si) = analysis.scene_of_file[file] {
            out.extend(analysis.link_hints(&analysis.scenes[si]).iter().cloned());
        }
    }
    out
}

/// Converts gathered diagnostics for the protocol.
pub fn convert(text: &str, lines: &LineIndex, diags: &[Diagnostic], enc: Encoding) -> Vec<lsp::Diagnostic> {
    diags.iter().map(|d| to_lsp(text, lines, d, enc)).collect()
}
