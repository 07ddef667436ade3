//! Context ranking and packing on fixture projects, table-driven where it can be: every item must
//! carry its reason, budgets must hold exactly, and nothing that matched may disappear without a
//! `dropped` entry.

use showrunner_context::tokens::{default_counter, TokenCounter};
use showrunner_context::{Context, ContextEngine, Form, Request};
use showrunner_model::analysis::{analyze, Analysis, Content, FileKind, SourceFile};
use showrunner_model::scene::SceneFormat;

fn project(files: &[(&str, &str)]) -> Analysis {
    let files = files
        .iter()
        .map(|(path, text)| {
            let kind = if *path == "showrunner.yaml" {
                FileKind::Config
            } else if path.starts_with("buckets/") {
                FileKind::Bucket
            } else if path.ends_with(".fountain") {
                FileKind::Scene(SceneFormat::Fountain)
            } else {
                FileKind::Scene(SceneFormat::Markdown)
            };
            SourceFile { path: path.to_string(), kind, content: Content::Text((*text).into()) }
        })
        .collect();
    analyze("test", files)
}

fn scene(a: &Analysis, path: &str) -> usize {
    a.scene_at(path).expect("scene exists")
}

fn assemble(a: &Analysis, path: &str, cursor: Option<usize>, budget: Option<usize>) -> Context {
    let engine = ContextEngine::new(a);
    engine.assemble(a, Request { scene: scene(a, path), cursor, budget }, default_counter())
}

fn ids(ctx: &Context) -> Vec<&str> {
    ctx.items.iter().map(|i| i.bucket.as_str()).collect()
}

/// The invariants every context must keep.
fn check_invariants(ctx: &Context) {
    let sum: usize = ctx.items.iter().map(|i| i.tokens).sum();
    assert_eq!(sum, ctx.used_tokens);
    assert!(ctx.used_tokens <= ctx.budget, "{} > {}", ctx.used_tokens, ctx.budget);
    for i in &ctx.items {
        assert!(!i.reason.is_empty(), "{} has no reason", i.bucket);
        assert_eq!(i.tokens, default_counter().count(&i.text), "{} token count", i.bucket);
    }
    for d in &ctx.dropped {
        assert!(!d.reason.is_empty());
    }
}

const CONFIG: &str = "name: Test\ncontext: { budget_tokens: 2000 }\n";

fn lighthouse() -> Vec<(&'static str, &'static str)> {
    vec![
        ("showrunner.yaml", CONFIG),
        ("buckets/season.yaml", "kind: season\nname: Season One\nsummary: A year on the rock.\n"),
        ("buckets/act.yaml", "kind: act\nname: Act One\nparent: season\nsummary: The inspection.\n"),
        ("buckets/ch1.yaml", "kind: chapter\nname: Chapter One\nparent: act\nsummary: The inspector arrives.\n"),
        ("buckets/alice.yaml", "kind: character\nname: Alice Marlowe\naliases: [Alice]\nsummary: Seventeen, keeps the lamp.\nrelations:\n  - { type: daughter_of, target: tom }\nattributes: { age: 17 }\n"),
        ("buckets/tom.yaml", "kind: character\nname: Tom Marlowe\naliases: [Tom]\nsummary: The keeper.\nattributes: { status: alive }\nprogressions:\n  - { at: { main: 9 }, attributes: { status: dead }, summary: Drowned in the storm. }\n"),
        ("buckets/zoe.yaml", "kind: character\nname: Zoë Carrow\naliases: [Zoë]\nsummary: Alice's friend in port.\nrelations:\n  - { type: friend_of, target: alice }\n"),
        ("buckets/lukasz.yaml", "kind: character\nname: Łukasz Nowak\naliases: [Łukasz]\nsummary: The inspector.\n"),
        ("buckets/rock.yaml", "kind: location\nname: Gannet Rock\nsummary: A granite light.\nbody: A tower of dovetailed granite blocks on a reef four miles out, with a lantern of diagonal astragals and a first-order lens turning on mercury.\ncontext_window: { priority: low }\n"),
        ("buckets/oil.yaml", "kind: research\nname: Lamp oil\nkeywords: [paraffin, wick]\nsummary: How paraffin burns.\nbody: Paraffin burned in multi-wick burners; wicks char and must be trimmed straight.\nsources: [\"Board report, 1893\"]\n"),
        ("buckets/signals.yaml", "kind: research\nname: Fog signals\nsummary: Explosive fog signals and sirens.\nbody: The fog signal fired a charge of tonite every five minutes; keepers logged every charge fired and the siren's compressed air.\n"),
        ("story/ch1/01.md", "---\nparent: ch1\npov: alice\ntimeline: { main: 1 }\nsummary: Alice sees the inspector's boat.\n---\nAlice watched the boat. Tom slept.\n"),
        ("story/ch1/02.md", "---\nparent: ch1\npov: lukasz\ncontext: [rock]\ntimeline: { main: 2 }\n---\nŁukasz climbed the stairs. Alice trimmed the wick with paraffin on her hands.\n\nLater, far below, Tom swore at the gulls. The fog signal fired its tonite charge; the siren's compressed air roared and every charge fired went into the log.\n"),
        ("story/ch1/03.md", "---\nparent: ch1\ntimeline: { main: 10 }\n---\nTom was gone. Alice kept the light.\n"),
    ]
}

#[test]
fn every_source_of_context_with_its_reason() {
    let a = project(&lighthouse());
    let ctx = assemble(&a, "story/ch1/02.md", None, None);
    check_invariants(&ctx);
    let reason = |id: &str| {
        ctx.items
            .iter()
            .find(|i| i.bucket == id)
            .map(|i| i.reason.as_str())
            .unwrap_or_else(|| panic!("{id} missing: {ctx:#?}"))
    };
    assert!(reason("rock").starts_with("pinned"), "{}", reason("rock"));
    assert!(reason("lukasz").starts_with("point-of-view"));
    assert_eq!(reason("ch1"), "the chapter this scene belongs to");
    assert_eq!(reason("act"), "the act this scene belongs to");
    assert_eq!(reason("season"), "the season this scene belongs to");
    assert_eq!(reason("01"), "previous scene in reading order (`01`)");
    assert!(reason("alice").starts_with("mentioned 1× in the scene"), "{}", reason("alice"));
    assert!(reason("zoe").starts_with("related: Zoë Carrow friend of Alice Marlowe"), "{}", reason("zoe"));
    assert!(reason("oil").contains("keywords \"paraffin\" 1×, \"wick\" 1×"), "{}", reason("oil"));
    assert!(reason("signals").starts_with("research matching the scene's words (BM25"), "{}", reason("signals"));
    // Pinned first, even with low priority; then by score.
    assert_eq!(ids(&ctx)[..2], ["rock", "lukasz"]);
    // The previous scene is its summary.
    let prev = ctx.items.iter().find(|i| i.bucket == "01").unwrap();
    assert!(prev.text.contains("Alice sees the inspector's boat."));
    assert_eq!(prev.kind, "scene");
}

#[test]
fn progressions_apply_from_their_position() {
    let a = project(&lighthouse());
    let before = assemble(&a, "story/ch1/02.md", None, None);
    let after = assemble(&a, "story/ch1/03.md", None, None);
    let tom = |c: &Context| c.items.iter().find(|i| i.bucket == "tom").unwrap().text.clone();
    assert!(tom(&before).contains("status: alive"), "{}", tom(&before));
    assert!(!tom(&before).contains("Drowned"));
    assert!(tom(&after).contains("status: dead"), "{}", tom(&after));
    assert!(tom(&after).contains("Since main 9: Drowned in the storm."));
}

#[test]
fn cursor_nearness_changes_the_order() {
    let a = project(&lighthouse());
    let text = a.text(a.scenes[scene(&a, "story/ch1/02.md")].file).to_string();
    let near_tom = text.find("Tom swore").unwrap();
    let near_alice = text.find("Alice trimmed").unwrap();
    let pos = |c: &Context, id: &str| ids(c).iter().position(|i| *i == id).unwrap();
    let c1 = assemble(&a, "story/ch1/02.md", Some(near_tom), None);
    assert!(pos(&c1, "tom") < pos(&c1, "alice") || c1.items[pos(&c1, "tom")].score > 200.0);
    assert!(c1.items[pos(&c1, "tom")].reason.contains("on the cursor's line"));
    let c2 = assemble(&a, "story/ch1/02.md", Some(near_alice), None);
    let tom_score = |c: &Context| c.items[pos(c, "tom")].score;
    assert!(tom_score(&c1) > tom_score(&c2));
}

struct Budget {
    name: &'static str,
    budget: usize,
    /// (id, form) that must appear.
    want: &'static [(&'static str, Form)],
    /// ids that must be dropped.
    dropped: &'static [&'static str],
}

const BUDGETS: &[Budget] = &[
    Budget {
        name: "zero budget drops everything",
        budget: 0,
        want: &[],
        dropped: &["rock", "lukasz", "alice", "tom", "oil", "ch1"],
    },
    Budget { name: "too small for one full item", budget: 8, want: &[], dropped: &["rock", "lukasz", "alice", "ch1"] },
    Budget { name: "room for a summary", budget: 20, want: &[("rock", Form::Summary)], dropped: &["tom"] },
    Budget {
        name: "roomy",
        budget: 5000,
        want: &[("rock", Form::Full), ("oil", Form::Full), ("tom", Form::Full)],
        dropped: &[],
    },
];

#[test]
fn budgets_hold_exactly_and_nothing_vanishes() {
    let a = project(&lighthouse());
    let all = assemble(&a, "story/ch1/02.md", None, Some(1_000_000));
    let everything: Vec<String> = all.items.iter().map(|i| i.bucket.clone()).collect();
    assert!(all.dropped.is_empty());
    for case in BUDGETS {
        let ctx = assemble(&a, "story/ch1/02.md", None, Some(case.budget));
        check_invariants(&ctx);
        assert_eq!(ctx.budget, case.budget, "{}", case.name);
        for (id, form) in case.want {
            let item = ctx
                .items
                .iter()
                .find(|i| i.bucket == *id)
                .unwrap_or_else(|| panic!("{}: {id} missing: {ctx:#?}", case.name));
            assert_eq!(item.form, *form, "{}: {id}", case.name);
        }
        for id in case.dropped {
            assert!(ctx.dropped.iter().any(|d| d.bucket == *id), "{}: {id} not dropped: {ctx:#?}", case.name);
        }
        // Every candidate is either packed or dropped, never lost.
        for id in &everything {
            let placed = ctx.items.iter().any(|i| &i.bucket == id) || ctx.dropped.iter().any(|d| &d.bucket == id);
            assert!(placed, "{}: {id} vanished", case.name);
        }
    }
}

#[test]
fn a_body_larger_than_the_budget_is_cut_at_a_sentence() {
    let body: String = (0..400).map(|i| format!("Sentence number {i} about the lamp. ")).collect();
    let bucket = format!("kind: research\nname: Huge Notes\nbody: \"{body}\"\n");
    let files = vec![
        ("showrunner.yaml", CONFIG),
        ("buckets/huge.yaml", bucket.as_str()),
        ("story/s.md", "---\ncontext: [huge]\n---\nNothing here.\n"),
    ];
    let a = project(&files);
    let ctx = assemble(&a, "story/s.md", None, Some(300));
    check_invariants(&ctx);
    let item = &ctx.items[0];
    assert_eq!(item.form, Form::Cut);
    assert!(item.text.trim_end().ends_with("about the lamp. …"), "{}", item.text);
    assert!(item.tokens <= 300 && item.tokens > 200, "{}", item.tokens);
    // max_tokens caps an item below the budget.
    let bucket = format!(
        "kind: research\nname: Huge Notes\nsummary: Short.\nbody: \"{body}\"\ncontext_window: {{ max_tokens: 40 }}\n"
    );
    let files = vec![
        ("showrunner.yaml", CONFIG),
        ("buckets/huge.yaml", bucket.as_str()),
        ("story/s.md", "---\ncontext: [huge]\n---\nx\n"),
    ];
    let a = project(&files);
    let ctx = assemble(&a, "story/s.md", None, None);
    assert_eq!(ctx.items[0].form, Form::Summary);
    assert!(ctx.items[0].tokens <= 40);
}

#[test]
fn zero_and_five_hundred_mentions() {
    let many = "Alice and Tom. ".repeat(250);
    let text = format!("---\npov: nobody\ncontext: [ghost]\n---\n{many}");
    let files = vec![
        ("showrunner.yaml", CONFIG),
        ("buckets/alice.yaml", "kind: character\nname: Alice\n"),
        ("buckets/tom.yaml", "kind: character\nname: Tom\n"),
        ("story/many.md", text.as_str()),
        ("story/none.md", "Nobody at all, in 李雷's language: 灯塔。\n"),
    ];
    let a = project(&files);
    let none = assemble(&a, "story/none.md", None, None);
    check_invariants(&none);
    assert!(none.items.iter().all(|i| i.kind == "scene"), "{none:#?}");
    let many = assemble(&a, "story/many.md", None, None);
    check_invariants(&many);
    let alice = many.items.iter().find(|i| i.bucket == "alice").unwrap();
    assert!(alice.reason.starts_with("mentioned 250× in the scene"), "{}", alice.reason);
    // Unknown pins and POV are reported, not silently ignored.
    assert!(many.dropped.iter().any(|d| d.bucket == "ghost" && d.reason.contains("no bucket")));
    assert!(many.dropped.iter().any(|d| d.bucket == "nobody"));
}

#[test]
fn deterministic() {
    let a = project(&lighthouse());
    let one = assemble(&a, "story/ch1/02.md", Some(40), Some(700));
    for _ in 0..5 {
        assert_eq!(assemble(&a, "story/ch1/02.md", Some(40), Some(700)), one);
    }
}

#[test]
fn unicode_and_fountain_scenes() {
    let mut files = lighthouse();
    files.push((
        "story/ch1/04.fountain",
        "Title: Night\nParent: ch1\n\nINT. LAMP ROOM - NIGHT\n\nZoë hums.\n\nŁUKASZ\nWho is there?\n",
    ));
    let a = project(&files);
    let ctx = assemble(&a, "story/ch1/04.fountain", None, None);
    check_invariants(&ctx);
    let reason = |id: &str| ctx.items.iter().find(|i| i.bucket == id).map(|i| i.reason.clone()).unwrap_or_default();
    assert!(reason("lukasz").starts_with("mentioned 1×"), "{ctx:#?}");
    assert!(reason("zoe").starts_with("mentioned 1×"));
    assert!(reason("ch1").starts_with("the chapter"));
}
