//! The story model of Showrunner: what a project *is*, independent of editors and storage.
//!
//! - [`yaml`]: a YAML tree with byte spans, parsed without ever failing;
//! - [`config`], [`bucket`], [`scene`], [`fountain`]: the project's files as data;
//! - [`matcher`]: entity matching (the one place that decides what a mention is);
//! - [`names`]: capitalised names without a bucket;
//! - [`story`]: reading order and timeline positions of scenes;
//! - [`analysis`]: the whole project, linked and checked, with every diagnostic;
//! - [`window`]: what an edit changed, so a scene is re-scanned only around it.
//!
//! Everything here works on text that someone else has read: no file system, no database, no
//! protocol types. Offsets are byte offsets into UTF-8 text.
//!
//! ```
//! use showrunner_model::analysis::{analyze, Content, FileKind, SourceFile};
//! use showrunner_model::scene::SceneFormat;
//!
//! let file = |path: &str, kind, text: &str| SourceFile { path: path.into(), kind, content: Content::Text(text.into()) };
//! let project = analyze("demo", vec![
//!     file("showrunner.yaml", FileKind::Config, "name: Demo\n"),
//!     file("buckets/zoe.yaml", FileKind::Bucket, "kind: character\nname: Zoë Ångström\naliases: [Zoë]\n"),
//!     file("story/one.md", FileKind::Scene(SceneFormat::Markdown), "Zoë’s lamp was out.\n"),
//! ]);
//! let scene = &project.scenes[0];
//! assert_eq!(scene.mentions.len(), 1);
//! assert_eq!(project.buckets[scene.mentions[0].bucket as usize].bucket.id.value, "zoe");
//! ```

pub mod analysis;
pub mod bucket;
pub mod config;
pub mod diag;
pub mod fountain;
pub mod goals;
pub mod id;
pub mod kind;
pub mod matcher;
pub mod names;
pub mod rename;
pub mod scene;
pub mod story;
pub mod target;
pub mod text;
pub mod window;
pub mod yaml;
