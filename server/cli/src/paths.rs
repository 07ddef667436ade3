//! Paths as the command line prints them.

use std::path::{Component, Path, PathBuf};

/// `path` relative to `base` (both absolute), with `/` separators; `..` where needed.
/// Symlinks inside `path` are kept as written.
pub fn display_relative(base: &Path, path: &Path) -> String {
    let b: Vec<Component> = base.components().collect();
    let p: Vec<Component> = path.components().collect();
    let common = b.iter().zip(&p).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), b.len() - common).collect();
    parts.extend(p[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// An absolute, normalised path (symlinks resolved where the path exists).
pub fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|_| std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(display_relative(Path::new("/a/b"), Path::new("/a/b/c/d.md")), "c/d.md");
        assert_eq!(display_relative(Path::new("/a/b/story"), Path::new("/a/b/buckets/x.yaml")), "../buckets/x.yaml");
    }
}
