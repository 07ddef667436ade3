//! The export plan, `md` and `fountain`, and where exports may be written.

mod common;

use std::path::Path;

use showrunner_export::output::Place;
use showrunner_export::{export, plan, ExportError, Format, Target};
use showrunner_model::fountain::{line_kinds, parse_fountain, LineKind};
use showrunner_store::load_project;

fn analysis(root: &Path) -> showrunner_model::analysis::Analysis {
    load_project(root).analysis
}

#[test]
fn plan_reads_scenes_in_reading_order_bodies_only() {
    let dir = common::project();
    let a = analysis(dir.path());
    let p = plan(&a, None).unwrap();
    assert_eq!(p.target, Target::Project);
    assert_eq!(p.meta.title, "The Keeper's Daughter");
    assert_eq!(p.meta.author.as_deref(), Some("Zoë Łukasz-Brontë"));
    assert!(p.meta.contact.as_deref().unwrap().contains("zoe@example.com"));
    let ids: Vec<&str> = p.scenes().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["arrival", "hut", "log", "night-watch"]);
    let chapters: Vec<Option<&str>> = p.chapters.iter().map(|c| c.title.as_deref()).collect();
    assert_eq!(chapters, vec![Some("Chapter One — Arrival"), Some("Chapter Two")]);
    let first = &p.chapters[0].scenes[0];
    assert!(first.body.starts_with("# Arrival\n\nThe boat came"), "{:?}", first.body);
    assert!(!first.body.contains('\r') && !first.body.contains("timeline:"));
    let episode = &p.chapters[1].scenes[1];
    assert!(episode.body.starts_with("EXT. THE LANDING STAGE"), "title page stripped: {:?}", episode.body);
    assert!(p.scenes().all(|s| !s.body.contains("PENDING AI TEXT")));
    assert!(p.words() > 60, "{}", p.words());
}

#[test]
fn targets_resolve_or_say_what_to_give() {
    let dir = common::project();
    let a = analysis(dir.path());
    let ids = |t: &str| plan(&a, Some(t)).unwrap().scenes().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids("ch02"), vec!["log", "night-watch"]);
    assert_eq!(ids("act-1"), vec!["arrival", "hut", "log", "night-watch"]);
    assert_eq!(ids("hut"), vec!["hut"]);
    assert_eq!(ids("story/ch01/b-arrival.md"), vec!["arrival"]);
    assert_eq!(ids("./story/ch02/night-watch.fountain"), vec!["night-watch"]);
    assert_eq!(ids("Storm Book"), ids("."));
    let one = plan(&a, Some("hut")).unwrap();
    assert_eq!(one.chapters[0].title, None, "a one-scene export prints no chapter heading");
    assert!(matches!(plan(&a, Some("ch02")).unwrap().target, Target::Structure { ref kind, .. } if kind == "chapter"));

    let err = plan(&a, Some("ch03")).unwrap_err().to_string();
    assert!(err.contains("nothing called `ch03`") && err.contains("did you mean `ch01`?"), "{err}");
    let err = plan(&a, Some("zoe")).unwrap_err().to_string();
    assert!(err.contains("`zoe` is a character bucket, not a part of the story"), "{err}");
    common::write(dir.path(), "buckets/structure/ch09.yaml", "id: ch09\nkind: chapter\nname: Empty\nparent: act-1\n");
    let err = plan(&analysis(dir.path()), Some("ch09")).unwrap_err();
    assert!(matches!(err, ExportError::Empty(_)) && err.to_string().contains("chapter `ch09` has no scenes"), "{err}");
}

#[test]
fn markdown_is_one_clean_file() {
    let dir = common::project();
    let a = analysis(dir.path());
    let w = export(&a, dir.path(), Format::Md, None, None, Place::InsideProject { open: &[] }, &()).unwrap();
    let root = dir.path().canonicalize().unwrap();
    assert_eq!(w.path, root.join("exports/the-keeper-s-daughter.md"));
    assert_eq!(w.scenes, 4);
    let md = std::fs::read_to_string(&w.path).unwrap();
    assert_eq!(w.bytes, md.len());
    assert!(md.starts_with("# Chapter One — Arrival\n\n## Arrival\n\nThe boat came round the point, and Zoë watched it *without blinking*.\n"), "{md}");
    assert!(md.contains("## The Hut\n\n李雷 had lived"), "{md}");
    assert!(md.contains("\n# Chapter Two\n"));
    assert!(!md.contains('\r') && !md.contains("parent:") && !md.contains("Id: night-watch"), "{md}");
    assert!(!md.contains("PENDING AI TEXT"));
    // What an export writes is no part of the story: the project reads the same scenes after it.
    let f = export(&a, dir.path(), Format::Fountain, None, None, Place::InsideProject { open: &[] }, &()).unwrap();
    assert!(f.path.ends_with("exports/the-keeper-s-daughter.fountain"));
    assert_eq!(analysis(dir.path()).scenes.len(), a.scenes.len());
}

#[test]
fn fountain_reads_back_as_the_screenplay() {
    let dir = common::project();
    let a = analysis(dir.path());
    let w =
        export(&a, dir.path(), Format::Fountain, Some("ch02"), None, Place::InsideProject { open: &[] }, &()).unwrap();
    assert!(w.path.ends_with("exports/ch02.fountain"));
    let text = std::fs::read_to_string(&w.path).unwrap();
    let (scene, _) = parse_fountain(&text, "ch02");
    assert_eq!(scene.title.as_deref(), Some("The Keeper's Daughter"));
    let headings: Vec<&str> = scene.headings.iter().map(|h| h.text.as_str()).collect();
    assert_eq!(headings, vec!["EXT. THE LANDING STAGE - DUSK", "INT. WIRELESS HUT - NIGHT"]);
    let cues: Vec<(&str, bool)> = scene.cues.iter().map(|c| (c.name.as_str(), c.dual)).collect();
    assert_eq!(cues, vec![("ŁUKASZ", false), ("李雷", true), ("ZOË", true)]);
    assert!(text.contains("Contact:\n    Zoë Łukasz-Brontë\n    12 Harbour Row, Port Ainsley\n"), "{text}");
    assert!(text.contains("# Chapter Two\n"));
    // The prose scene is action, its emphasis in Fountain's markers, nothing in it read as a cue.
    let kinds = line_kinds(&text);
    let line = text.lines().position(|l| l.starts_with("The log was kept")).unwrap();
    assert_eq!(kinds[line], LineKind::Action);
    let hut =
        export(&a, dir.path(), Format::Fountain, Some("hut"), None, Place::InsideProject { open: &[] }, &()).unwrap();
    let hut = std::fs::read_to_string(hut.path).unwrap();
    assert!(hut.contains("It was *very* quiet."), "{hut}");
    assert!(hut.contains("> * * * <"), "{hut}");
}

#[test]
fn output_paths_are_checked() {
    let dir = common::project();
    let root = dir.path();
    let a = analysis(root);
    let err =
        |out: &Path, place: Place| export(&a, root, Format::Md, None, Some(out), place, &()).unwrap_err().to_string();
    let e = err(Path::new("story/all.md"), Place::Anywhere);
    assert!(e.contains("will not write an export into story/"), "{e}");
    let e = err(Path::new("buckets"), Place::Anywhere);
    assert!(e.contains("into buckets/"), "{e}");
    let e = err(Path::new("../../etc/book.md"), Place::InsideProject { open: &[] });
    assert!(e.contains("leaves the project"), "{e}");
    let e = err(Path::new("no/such/folder/book.md"), Place::Anywhere);
    assert!(e.contains("does not exist"), "{e}");
    let e = err(Path::new("draft.fountain"), Place::Anywhere);
    assert!(e.contains("reads that file as part of the story"), "{e}");
    common::write(root, "notes.txt", "mine");
    let e = err(Path::new("notes.txt"), Place::Anywhere);
    assert!(e.contains("will not overwrite") && e.contains("not a .md file"), "{e}");
    assert_eq!(std::fs::read_to_string(root.join("notes.txt")).unwrap(), "mine");
    // A folder: the file is named after the target in it; outside the project is fine for the CLI.
    let out = tempfile::tempdir().unwrap();
    let w = export(&a, root, Format::Md, Some("ch01"), Some(out.path()), Place::Anywhere, &()).unwrap();
    assert_eq!(w.path, out.path().canonicalize().unwrap().join("ch01.md"));
    // An unwritable place is a clear error naming the path.
    std::fs::create_dir(root.join("exports")).unwrap();
    std::fs::write(root.join("exports/locked"), "").unwrap();
    let e =
        export(&a, root, Format::Md, None, Some(Path::new("exports/locked/x.md")), Place::Anywhere, &()).unwrap_err();
    assert!(e.to_string().contains("x.md"), "{e}");
    assert!("pdfx".parse::<Format>().unwrap_err().to_string().contains("use docx, pdf, fdx, epub, md, fountain"));
}

#[test]
fn docx_is_a_zip_of_word_xml_with_the_manuscript() {
    use std::io::Read;
    let dir = common::project();
    let a = analysis(dir.path());
    let w = export(&a, dir.path(), Format::Docx, None, None, Place::InsideProject { open: &[] }, &()).unwrap();
    assert!(w.path.ends_with("exports/the-keeper-s-daughter.docx"));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&w.path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")).read_to_string(&mut s).unwrap();
        s
    };
    let document = read("word/document.xml");
    assert!(document.contains("without blinking") && document.contains("李雷") && document.contains("🌊"));
    assert!(!document.contains("PENDING AI TEXT") && !document.contains("timeline:"));
    let headers: String = (1..=3)
        .filter_map(|i| {
            zip.by_name(&format!("word/header{i}.xml")).ok().map(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                s
            })
        })
        .collect();
    assert!(headers.contains("Łukasz-Brontë / THE KEEPER"), "{headers}");
    // The full reading back (styles, spacing, indents, emphasis) is tests/exports (python-docx).
}

#[test]
fn epub_is_a_zip_with_mimetype_first_and_a_chapter_per_structure_node() {
    use std::io::Read;
    let dir = common::project();
    let a = analysis(dir.path());
    let w = export(&a, dir.path(), Format::Epub, None, None, Place::InsideProject { open: &[] }, &()).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&w.path).unwrap()).unwrap();
    {
        let first = zip.by_index(0).unwrap();
        assert_eq!(first.name(), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    }
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    assert!(
        names.contains(&"OEBPS/chapter-002.xhtml".to_string()) && !names.iter().any(|n| n.contains("cover")),
        "{names:?}"
    );
    let mut opf = String::new();
    zip.by_name("OEBPS/content.opf").unwrap().read_to_string(&mut opf).unwrap();
    assert!(
        opf.contains("<dc:title>The Keeper's Daughter</dc:title>") && opf.contains("<dc:language>en</dc:language>"),
        "{opf}"
    );
    let modified = opf.split("dcterms:modified\">").nth(1).unwrap();
    assert_eq!(modified.find("</meta>"), Some(20), "CCYY-MM-DDThh:mm:ssZ: {modified}");
    let mut ch2 = String::new();
    zip.by_name("OEBPS/chapter-002.xhtml").unwrap().read_to_string(&mut ch2).unwrap();
    assert!(ch2.contains("<h1>Chapter Two</h1>") && ch2.contains("<p class=\"character\">李雷</p>"), "{ch2}");
    assert!(ch2.contains("clerk&apos;s") || ch2.contains("clerk's"), "{ch2}");
    // Validity is checked by epubcheck in tests/exports.
}
