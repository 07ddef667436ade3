//! A deterministic generator of synthetic story projects for benchmarks.
//!
//! Sizes (issue 2): S = 50 buckets / 100 scenes / 100k words, M = 1k / 1k / 1M,
//! L = 10k / 5k / 5M. Names mix several languages (Zoë, Łukasz, Ольга, 李雷 …), every character
//! has a unique nickname alias, and scenes mention a cast of buckets about once every 40 words.

use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub name: &'static str,
    pub buckets: usize,
    pub scenes: usize,
    pub words: usize,
}

pub const SIZES: &[Size] = &[
    Size { name: "S", buckets: 50, scenes: 100, words: 100_000 },
    Size { name: "M", buckets: 1_000, scenes: 1_000, words: 1_000_000 },
    Size { name: "L", buckets: 10_000, scenes: 5_000, words: 5_000_000 },
];

pub fn size(name: &str) -> Option<Size> {
    SIZES.iter().copied().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// xorshift64*: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIRST: &[&str] = &[
    "Alice",
    "Tom",
    "Zoë",
    "Łukasz",
    "Ольга",
    "Mei",
    "Ana",
    "Björn",
    "Chiara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Marek",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tariq",
    "Ursula",
    "Vera",
    "Wanda",
    "Xavier",
    "Yusuf",
    "Zofia",
    "Amara",
    "Bruno",
    "Clara",
    "Dario",
    "Emil",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivo",
    "Jana",
    "Kofi",
    "Lucía",
    "Mateo",
    "Nora",
    "Otto",
    "Pia",
    "Rafael",
    "Sanna",
    "Teodor",
    "Uma",
    "Viktor",
    "Willa",
    "Yara",
    "Ziggy",
    "Agnes",
    "Boris",
    "Cora",
    "Desmond",
    "Edith",
    "Felix",
    "Gwen",
    "Harold",
    "Isla",
    "Jasper",
    "Kira",
    "Leopold",
    "Maud",
    "Nils",
    "Olive",
    "Percy",
    "Quinn",
    "Ruth",
    "Silas",
    "Thea",
    "Ulrich",
    "Violet",
    "Walter",
    "Ximena",
    "李雷",
    "韩梅梅",
    "Ngozi",
    "Aiko",
];
const LAST: &[&str] = &[
    "Marlowe",
    "Nowak",
    "Ångström",
    "Kowalski",
    "Petrova",
    "Chen",
    "Silva",
    "Lindqvist",
    "Rossi",
    "Volkov",
    "Garcia",
    "Haddad",
    "Schmidt",
    "Moreau",
    "Costa",
    "Berg",
    "Tanaka",
    "Fischer",
    "Dvořák",
    "Karimi",
    "Larsen",
    "Patel",
    "Dubois",
    "Romero",
    "Jensen",
    "Rahman",
    "Keller",
    "Novak",
    "Weiss",
    "Olsen",
    "Yilmaz",
    "Zieliński",
    "Okafor",
    "Bianchi",
    "Castillo",
    "Duarte",
    "Eriksen",
    "Ferreira",
    "Gallagher",
    "Holm",
    "Ibsen",
    "Jovanović",
    "Kaur",
    "Lopez",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Pereira",
    "Quinlan",
    "Richter",
    "Sato",
    "Toivonen",
    "Uddin",
    "Varga",
    "Walsh",
    "Xu",
    "Young",
    "Zhang",
    "Abbott",
    "Barrow",
    "Crane",
    "Dunmore",
    "Ellery",
    "Fairweather",
    "Greaves",
    "Hollis",
    "Ingram",
    "Jolliffe",
    "Kettering",
    "Lockwood",
    "Mallory",
    "Netherby",
    "Oakes",
    "Pryce",
    "Radley",
    "Sheringham",
    "Thorne",
    "Upton",
    "Vance",
    "Whitlock",
    "Yardley",
    "Ashdown",
    "Blackwood",
    "Carrow",
    "Dalloway",
    "Everard",
    "Fenwick",
    "Galloway",
    "Harcourt",
    "Inchbald",
    "Jessop",
    "Kilbride",
    "Lisle",
    "Merriman",
    "Norcross",
    "Ormsby",
    "Penhallow",
    "Quarles",
    "Rushworth",
    "Stanhope",
    "Tresilian",
    "Underhill",
    "Verity",
    "Wexford",
    "Yeoman",
    "Alderney",
    "Brisco",
    "Cullen",
    "Dacre",
    "Eastlake",
    "Fairfax",
    "Grimshaw",
    "Hesketh",
    "Ivory",
    "Jardine",
    "Kinloch",
    "Lacey",
    "Mordaunt",
    "Nevill",
    "Osgood",
    "Pettigrew",
    "Rookwood",
    "Sandys",
    "Talbot",
    "Urquhart",
    "Villiers",
    "Warburton",
];
const SYLLABLES: &[&str] = &[
    "bran", "mor", "kel", "vash", "tor", "lin", "dra", "wen", "qua", "zel", "thorn", "ash", "gal", "rim", "sor", "fen",
    "hal", "ix", "jor", "kar", "lus", "mir", "nox", "pel", "rend", "sil", "tav", "ul", "var", "wyn", "yor",
];
const WORDS: &[&str] = &[
    "the",
    "storm",
    "came",
    "in",
    "before",
    "boat",
    "did",
    "and",
    "lamp",
    "was",
    "lit",
    "she",
    "he",
    "they",
    "walked",
    "along",
    "harbour",
    "wall",
    "rain",
    "a",
    "of",
    "to",
    "with",
    "her",
    "his",
    "their",
    "old",
    "stone",
    "stairs",
    "light",
    "sea",
    "grey",
    "wind",
    "cold",
    "night",
    "morning",
    "letter",
    "door",
    "window",
    "kitchen",
    "table",
    "bread",
    "tea",
    "silence",
    "voice",
    "hands",
    "coat",
    "rope",
    "gulls",
    "cliff",
    "path",
    "was",
    "had",
    "were",
    "said",
    "nothing",
    "something",
    "again",
    "slowly",
    "quietly",
    "under",
    "over",
    "through",
    "across",
    "toward",
    "beneath",
    "salt",
    "iron",
    "oil",
    "wick",
    "glass",
    "tower",
    "shore",
    "waves",
    "fog",
    "bell",
    "clock",
    "hour",
    "waited",
    "listened",
    "remembered",
    "forgot",
    "carried",
    "opened",
    "closed",
    "watched",
    "smiled",
    "frowned",
    "because",
    "although",
    "while",
    "until",
    "then",
    "still",
    "never",
    "always",
    "perhaps",
    "almost",
    "only",
];

pub struct Bucket {
    pub id: String,
    pub names: Vec<String>,
}

fn word(rng: &mut Rng, syll: usize) -> String {
    let mut w = String::new();
    for _ in 0..syll {
        w.push_str(rng.pick(SYLLABLES));
    }
    let mut c = w.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The buckets of a project of `n` buckets: (id, kind, yaml, names).
pub fn buckets(n: usize, structure: &[(String, &str, Option<String>)], rng: &mut Rng) -> Vec<(String, String, Bucket)> {
    let mut out = Vec::with_capacity(n + structure.len());
    for (id, kind, parent) in structure {
        let yaml = format!(
            "kind: {kind}\nname: {}\n{}summary: The {kind} where things turn.\n",
            id.replace('-', " "),
            parent.as_ref().map(|p| format!("parent: {p}\n")).unwrap_or_default()
        );
        out.push((format!("structure/{id}.yaml"), yaml, Bucket { id: id.clone(), names: Vec::new() }));
    }
    let mut used = std::collections::HashSet::new();
    for i in 0..n {
        let roll = i % 10;
        let (kind, folder) = match roll {
            0..=5 => ("character", "characters"),
            6 | 7 => ("location", "places"),
            8 => ("item", "items"),
            _ => {
                if i % 20 == 9 {
                    ("research", "research")
                } else {
                    ("faction", "factions")
                }
            }
        };
        let (name, alias) = loop {
            let (name, alias) = match kind {
                "character" => {
                    let f = FIRST[(i / 6 + rng.below(FIRST.len())) % FIRST.len()];
                    let l = LAST[rng.below(LAST.len())];
                    (format!("{f} {l}"), word(rng, 3))
                }
                "location" => (
                    format!("{} {}", word(rng, 2), ["Bay", "Point", "Mill", "Hall", "Cove", "Rock"][rng.below(6)]),
                    word(rng, 3),
                ),
                "research" => (
                    format!("{} {}", word(rng, 2), ["oil", "signals", "tides", "law"][rng.below(4)]),
                    word(rng, 3).to_lowercase(),
                ),
                _ => (format!("The {}", word(rng, 3)), word(rng, 3)),
            };
            if used.insert(name.clone()) && used.insert(alias.clone()) {
                break (name, alias);
            }
        };
        let id = format!("{}-{i:05}", &kind[..4]);
        let mut yaml = format!("id: {id}\nkind: {kind}\nname: {name}\naliases: [{alias}]\nsummary: {name} matters to the story in a quiet way.\n");
        if kind == "character" {
            let _ = writeln!(yaml, "attributes: {{ age: {}, status: alive }}", 18 + rng.below(60));
        }
        if kind == "research" {
            yaml.push_str("keywords: [lamp oil, tides]\nsources: [\"A report, 1893\"]\n");
        }
        if i > 0 && rng.below(3) == 0 {
            let _ = write!(
                yaml,
                "relations:\n  - {{ type: knows, target: {} }}\n",
                out[structure.len() + rng.below(i)].2.id
            );
        }
        let _ = write!(yaml, "body: |\n  {name} has a history. {}\n", sentence(rng, &[], 20));
        out.push((format!("{folder}/{id}.yaml"), yaml, Bucket { id, names: vec![name, alias] }));
    }
    out
}

fn sentence(rng: &mut Rng, cast: &[&str], len: usize) -> String {
    let mut s = String::new();
    for i in 0..len {
        if i > 0 {
            s.push(' ');
        }
        let w = if !cast.is_empty() && rng.below(40) == 0 { cast[rng.below(cast.len())] } else { rng.pick(WORDS) };
        if i == 0 {
            let mut c = w.chars();
            s.extend(c.next().map(|f| f.to_uppercase().collect::<String>()));
            s.push_str(c.as_str());
        } else {
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

/// Writes the project; returns (bucket count, scene count, word count).
pub fn generate(size: Size, dir: &Path) -> std::io::Result<(usize, usize, usize)> {
    let mut rng = Rng::new(0x5EED ^ size.buckets as u64);
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("showrunner.yaml"),
        // SR001 hints on: the benchmarks publish one per mention (the heaviest diagnostics).
        format!(
            "name: Synthetic {}\ncontext: {{ budget_tokens: 6000 }}\nentities: {{ link_hints: true }}\n",
            size.name
        ),
    )?;
    // Structure: 1 season, arcs, acts, chapters of 10 scenes each.
    let chapters = size.scenes.div_ceil(10);
    let mut structure: Vec<(String, &str, Option<String>)> = vec![("season-1".into(), "season", None)];
    let arcs = chapters.div_ceil(20);
    for a in 0..arcs {
        structure.push((format!("arc-{a}"), "arc", Some("season-1".into())));
        structure.push((format!("act-{a}"), "act", Some(format!("arc-{a}"))));
    }
    for c in 0..chapters {
        structure.push((format!("chapter-{c}"), "chapter", Some(format!("act-{}", c / 20))));
    }
    let content = size.buckets.saturating_sub(structure.len()).max(10);
    let bs = buckets(content, &structure, &mut rng);
    for (rel, yaml, _) in &bs {
        let p = dir.join("buckets").join(rel);
        std::fs::create_dir_all(p.parent().unwrap())?;
        std::fs::write(p, yaml)?;
    }
    let names: Vec<&str> = bs.iter().flat_map(|b| b.2.names.iter().map(String::as_str)).collect();
    let characters: Vec<&str> = bs.iter().filter(|b| b.0.starts_with("characters/")).map(|b| b.2.id.as_str()).collect();
    let per_scene = size.words / size.scenes;
    let mut total_words = 0;
    for s in 0..size.scenes {
        let cast: Vec<&str> = (0..8).map(|_| names[rng.below(names.len())]).collect();
        let mut text = format!(
            "---\nid: scene-{s:05}\nparent: chapter-{}\npov: {}\ntimeline: {{ main: {s} }}\n---\n",
            s / 10,
            characters[rng.below(characters.len())]
        );
        let mut words = 0;
        while words < per_scene {
            for _ in 0..(4 + rng.below(5)) {
                let len = 8 + rng.below(13);
                text.push_str(&sentence(&mut rng, &cast, len));
                text.push(' ');
                words += len;
            }
            text.push_str("\n\n");
        }
        total_words += words;
        let p = dir.join(format!("story/ch{:03}/scene-{s:05}.md", s / 10));
        std::fs::create_dir_all(p.parent().unwrap())?;
        std::fs::write(p, text)?;
    }
    Ok((bs.len(), size.scenes, total_words))
}

/// A long scene (`words` words) for the M project, mentioning its buckets, written to
/// `story/long/scene-long.md` under chapter 0.
pub fn long_scene(dir: &Path, words: usize) -> std::io::Result<std::path::PathBuf> {
    long_scene_named(dir, words, "scene-long")
}

/// [`long_scene`] as `story/long/ID.md` with the scene id `ID` (several long scenes side by side).
pub fn long_scene_named(dir: &Path, words: usize, id: &str) -> std::io::Result<std::path::PathBuf> {
    let mut rng = Rng::new(0x10E6);
    let size = size("M").expect("M exists");
    let structure: Vec<(String, &str, Option<String>)> = Vec::new();
    let bs = buckets(size.buckets.min(400), &structure, &mut Rng::new(0x5EED ^ size.buckets as u64));
    let names: Vec<&str> = bs.iter().flat_map(|b| b.2.names.iter().map(String::as_str)).collect();
    let cast: Vec<&str> = (0..40).map(|_| names[rng.below(names.len())]).collect();
    let mut text = format!("---\nid: {id}\nparent: chapter-0\ncontext: [chapter-1]\ntimeline: {{ main: 5 }}\n---\n");
    let mut n = 0;
    while n < words {
        for _ in 0..(4 + rng.below(5)) {
            let len = 8 + rng.below(13);
            text.push_str(&sentence(&mut rng, &cast, len));
            text.push(' ');
            n += len;
        }
        text.push_str("\n\n");
    }
    let p = dir.join(format!("story/long/{id}.md"));
    std::fs::create_dir_all(p.parent().expect("has a parent"))?;
    std::fs::write(&p, text)?;
    Ok(p)
}
