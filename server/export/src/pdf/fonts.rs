//! The typefaces a PDF export sets its text in, and which one holds each character.
//!
//! Every export embeds (subsets of) fonts that ship inside Showrunner (`server/export/fonts`,
//! their licences beside them), so a script looks the same on every machine: Courier Prime for
//! screenplays and Courier manuscripts, Tinos (Times New Roman's metrics) for Times manuscripts,
//! Cousine (Courier's 0.6 em advance) for Greek, Cyrillic and Hebrew in monospaced text, and Droid
//! Sans Fallback for Chinese and Japanese. A character none of them holds (Korean, Arabic,
//! emoji …) is looked up in the fonts installed on this machine; one no font holds is set as the
//! first font's empty box and reported, so the writer knows which names did not print.

use std::collections::{BTreeSet, HashMap};

use rustc_hash::FxHashMap;
use std::ops::Range;
use std::sync::Arc;

use krilla::text::{Font, GlyphId, KrillaGlyph};

static COURIER_PRIME: [&[u8]; 4] = [
    include_bytes!("../../fonts/CourierPrime-Regular.ttf"),
    include_bytes!("../../fonts/CourierPrime-Bold.ttf"),
    include_bytes!("../../fonts/CourierPrime-Italic.ttf"),
    include_bytes!("../../fonts/CourierPrime-BoldItalic.ttf"),
];
static TINOS: [&[u8]; 4] = [
    include_bytes!("../../fonts/Tinos-Regular.ttf"),
    include_bytes!("../../fonts/Tinos-Bold.ttf"),
    include_bytes!("../../fonts/Tinos-Italic.ttf"),
    include_bytes!("../../fonts/Tinos-BoldItalic.ttf"),
];
static COUSINE: [&[u8]; 2] =
    [include_bytes!("../../fonts/Cousine-Regular.ttf"), include_bytes!("../../fonts/Cousine-Bold.ttf")];
static CJK: &[u8] = include_bytes!("../../fonts/DroidSansFallbackFull.ttf");

/// How a run of text is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Style {
    pub bold: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Style {
    pub const PLAIN: Style = Style { bold: false, italic: false, underline: false };

    /// Index into a four-style family: regular, bold, italic, bold italic.
    fn slot(self) -> usize {
        usize::from(self.bold) + 2 * usize::from(self.italic)
    }
}

/// The primary typeface of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Courier Prime: screenplays, and manuscripts with `manuscript: { font: courier }`.
    Courier,
    /// Tinos: manuscripts in Times.
    Times,
}

/// One font file (a face of it) and what it holds.
struct Face {
    font: Font,
    data: Arc<dyn AsRef<[u8]> + Send + Sync>,
    index: u32,
    units_per_em: f32,
    /// The advance of the empty box (glyph 0) that stands in for a character no font holds.
    notdef: u16,
    /// Glyph and advance by character, as looked up (none: the face does not hold it).
    glyphs: FxHashMap<char, Option<(u16, u16)>>,
}

impl Face {
    fn new(data: Arc<dyn AsRef<[u8]> + Send + Sync>, index: u32) -> Option<Face> {
        let parsed = ttf_parser::Face::parse((*data).as_ref(), index).ok()?;
        // Bitmap-only faces (colour emoji in CBDT/sbix) have no outlines to embed.
        let tables = parsed.tables();
        if tables.glyf.is_none() && tables.cff.is_none() && tables.cff2.is_none() {
            return None;
        }
        let units_per_em = f32::from(parsed.units_per_em());
        let notdef = parsed.glyph_hor_advance(ttf_parser::GlyphId(0)).unwrap_or(0);
        let font = Font::new(krilla::Data::from(data.clone()), index)?;
        Some(Face { font, data, index, units_per_em, notdef, glyphs: FxHashMap::default() })
    }

    fn embedded(bytes: &'static [u8]) -> Face {
        Face::new(Arc::new(bytes), 0).expect("the fonts shipped with Showrunner parse")
    }

    /// The glyph of `c` and its advance in font units, when this face holds it.
    fn glyph(&mut self, c: char) -> Option<(u16, u16)> {
        let (data, index) = (&self.data, self.index);
        *self.glyphs.entry(c).or_insert_with(|| {
            let face = ttf_parser::Face::parse((**data).as_ref(), index).ok()?;
            let glyph = face.glyph_index(c).filter(|g| g.0 != 0)?;
            Some((glyph.0, face.glyph_hor_advance(glyph).unwrap_or(0)))
        })
    }

    fn advance(&mut self, c: char) -> Option<u16> {
        self.glyph(c).map(|(_, advance)| advance)
    }

    /// The advance of `c` in ems: its glyph's, or (not held) the empty box's that stands in.
    fn ems(&mut self, c: char) -> f32 {
        let advance = self.advance(c).unwrap_or(self.notdef);
        f32::from(advance) / self.units_per_em
    }
}

/// Text a shaper must set: right-to-left scripts, scripts whose letters join or reorder, and
/// combining marks. Anything else is set glyph by glyph, each at its own advance.
fn needs_shaping(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32,
            0x0300..=0x036F | 0x0483..=0x0489 | 0x0590..=0x08FF | 0x0900..=0x0DFF | 0x0E00..=0x0FFF
            | 0x1000..=0x109F | 0x1700..=0x18AF | 0x1A00..=0x1AFF | 0x1B00..=0x1CFF | 0x1DC0..=0x1DFF
            | 0x200C..=0x200F | 0x202A..=0x202E | 0x20D0..=0x20FF | 0xA800..=0xABFF | 0xFB1D..=0xFDFF
            | 0xFE00..=0xFE2F | 0xFE70..=0xFEFF | 0x10000..)
    })
}

/// Characters that take no space and belong to the text around them (joiners, variation
/// selectors, the soft hyphen): set in whatever font their neighbours are.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
        || ('\u{E0100}'..='\u{E01EF}').contains(&c)
}

/// The fonts of one export: the embedded chain for each style, the machine's fonts once a
/// character needs them, and the characters nothing held.
pub struct Fonts {
    faces: Vec<Face>,
    /// The faces shipped with Showrunner (the first ones): set glyph by glyph.
    embedded: usize,
    /// Where each character of a style is set, and its advance in ems.
    placed: FxHashMap<(char, usize), (usize, f32)>,
    /// Face indices to try, by style slot.
    chains: [Vec<usize>; 4],
    /// The machine's fonts, loaded the first time a character is in none of the embedded ones,
    /// with their faces in the order they are tried.
    system: Option<(fontdb::Database, Vec<(fontdb::ID, u32)>)>,
    /// System faces already loaded, by (font id, face index).
    loaded: HashMap<fontdb::ID, usize>,
    found: HashMap<char, Option<usize>>,
    missing: BTreeSet<char>,
}

impl Fonts {
    pub fn new(family: Family) -> Fonts {
        let primary = match family {
            Family::Courier => &COURIER_PRIME,
            Family::Times => &TINOS,
        };
        let mut faces: Vec<Face> = primary.iter().map(|b| Face::embedded(b)).collect();
        let mono = faces.len();
        if family == Family::Courier {
            faces.extend(COUSINE.iter().map(|b| Face::embedded(b)));
        }
        let cjk = faces.len();
        faces.push(Face::embedded(CJK));
        let chains = std::array::from_fn(|slot| {
            let mut chain = vec![slot];
            if family == Family::Courier {
                chain.push(mono + usize::from(slot % 2 == 1));
            }
            chain.push(cjk);
            chain
        });
        Fonts {
            embedded: faces.len(),
            faces,
            placed: FxHashMap::default(),
            chains,
            system: None,
            loaded: HashMap::new(),
            found: HashMap::new(),
            missing: BTreeSet::new(),
        }
    }

    /// The face that sets `c` in `style`: the first of its chain that holds it, else a font of
    /// this machine's, else none (the character is recorded as missing).
    fn face_for(&mut self, c: char, style: Style) -> Option<usize> {
        let slot = style.slot();
        for k in 0..self.chains[slot].len() {
            let i = self.chains[slot][k];
            if self.faces[i].advance(c).is_some() {
                return Some(i);
            }
        }
        if let Some(&known) = self.found.get(&c) {
            return known;
        }
        let found = self.system_face(c);
        self.found.insert(c, found);
        if found.is_none() {
            self.missing.insert(c);
        }
        found
    }

    fn system_face(&mut self, c: char) -> Option<usize> {
        let (db, order) = self.system.get_or_insert_with(|| {
            let mut db = fontdb::Database::new();
            db.load_system_fonts();
            let mut order: Vec<(fontdb::ID, u32)> = db.faces().map(|f| (f.id, f.index)).collect();
            // Regular upright faces first, so a fallback is not set in a display or italic cut.
            order.sort_by_key(|(id, _)| {
                db.face(*id)
                    .map(|f| (f.style != fontdb::Style::Normal, f.weight != fontdb::Weight::NORMAL))
                    .unwrap_or((true, true))
            });
            (db, order)
        });
        for &(id, index) in order.iter() {
            if let Some(&i) = self.loaded.get(&id) {
                if self.faces[i].advance(c).is_some() {
                    return Some(i);
                }
                continue;
            }
            let holds = db
                .with_face_data(id, |data, index| {
                    ttf_parser::Face::parse(data, index).ok().and_then(|f| f.glyph_index(c)).is_some_and(|g| g.0 != 0)
                })
                .unwrap_or(false);
            if !holds {
                continue;
            }
            let data = db.with_face_data(id, |data, _| data.to_vec())?;
            let Some(face) = Face::new(Arc::new(data), index) else { continue };
            self.faces.push(face);
            let i = self.faces.len() - 1;
            self.loaded.insert(id, i);
            if self.faces[i].advance(c).is_some() {
                return Some(i);
            }
        }
        None
    }

    /// The face that sets `c` in `style` and its advance in ems (remembered: every character of
    /// the text is asked for twice, to wrap and to draw). A character that takes no space goes
    /// with its neighbours (none: the first face).
    fn place(&mut self, c: char, style: Style) -> (Option<usize>, f32) {
        if is_ignorable(c) || c.is_control() {
            return (None, 0.0);
        }
        let slot = style.slot();
        if let Some(&(face, ems)) = self.placed.get(&(c, slot)) {
            return (Some(face), ems);
        }
        let face = self.face_for(c, style).unwrap_or(self.chains[slot][0]);
        let ems = self.faces[face].ems(c);
        self.placed.insert((c, slot), (face, ems));
        (Some(face), ems)
    }

    /// The text split into the runs each face sets (by byte range); a character no font holds
    /// is in a run of the first face (which prints its empty box).
    pub fn segments(&mut self, text: &str, style: Style) -> Vec<(usize, Range<usize>)> {
        let primary = self.chains[style.slot()][0];
        let mut out: Vec<(usize, Range<usize>)> = Vec::new();
        for (at, c) in text.char_indices() {
            let end = at + c.len_utf8();
            let face = match self.place(c, style).0 {
                Some(face) => face,
                None => out.last().map(|(f, _)| *f).unwrap_or(primary),
            };
            match out.last_mut() {
                Some((f, range)) if *f == face => range.end = end,
                _ => out.push((face, at..end)),
            }
        }
        out
    }

    /// The width of `text` in `style` at `size` points.
    pub fn width(&mut self, text: &str, style: Style, size: f32) -> f32 {
        text.chars().map(|c| self.place(c, style).1).sum::<f32>() * size
    }

    /// The glyphs that set `text` (one segment, all of it in `face`) one by one at their own
    /// advances, as [`Fonts::width`] measured them; none when a shaper must set it (a font of
    /// the machine's, or a script whose letters join, reorder or combine).
    pub fn glyphs(&mut self, face: usize, text: &str) -> Option<Vec<KrillaGlyph>> {
        if face >= self.embedded || needs_shaping(text) {
            return None;
        }
        let f = &mut self.faces[face];
        let mut out = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            if is_ignorable(c) || c.is_control() {
                continue;
            }
            let glyph = f.glyph(c).map_or(0, |(g, _)| g);
            out.push(KrillaGlyph {
                glyph_id: GlyphId::new(u32::from(glyph)),
                text_range: at..at + c.len_utf8(),
                x_advance: f.ems(c),
                x_offset: 0.0,
                y_offset: 0.0,
                y_advance: 0.0,
                location: None,
            });
        }
        Some(out)
    }

    pub fn font(&self, face: usize) -> Font {
        self.faces[face].font.clone()
    }

    /// What no font held, for the writer: none when everything printed.
    pub fn missing(&self) -> Option<String> {
        let n = self.missing.len();
        if n == 0 {
            return None;
        }
        let mut shown: Vec<String> =
            self.missing.iter().take(12).map(|c| format!("{c} (U+{:04X})", *c as u32)).collect();
        if n > 12 {
            shown.push(format!("and {} more", n - 12));
        }
        let what = if n == 1 { "1 character".to_string() } else { format!("{n} characters") };
        let it = if n == 1 { "it" } else { "them" };
        Some(format!(
            "{what} no font here has, printed as empty boxes: {} — install a font that has {it} and export again",
            shown.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_of_the_examples_has_a_font_and_courier_keeps_its_grid() {
        let mut fonts = Fonts::new(Family::Courier);
        // Courier Prime's advance is 0.6 em (1228 of 2048 units): 10 characters an inch at
        // 12 pt; Cousine's the same.
        assert!((fonts.width("ZOË ŁUKASZ", Style::PLAIN, 12.0) - 72.0).abs() < 0.1);
        assert!((fonts.width("ЖЖЖЖЖЖЖЖЖЖ", Style::PLAIN, 12.0) - 72.0).abs() < 0.1);
        let segs = fonts.segments("LI LEI (李雷) says Привет", Style::PLAIN);
        // Courier Prime (0), Droid Sans Fallback (6) for the name, Cousine (4) for the Cyrillic.
        assert_eq!(segs, vec![(0, 0..8), (6, 8..14), (0, 14..21), (4, 21..33)]);
        assert!(fonts.missing().is_none());
        let bold = fonts.segments("ZOË", Style { bold: true, ..Style::PLAIN });
        assert_eq!(bold, vec![(1, 0..4)]);
        let mut times = Fonts::new(Family::Times);
        assert!(times.width("Zoë", Style::PLAIN, 12.0) < 24.0);
        assert_eq!(times.segments("ジョン", Style::PLAIN).len(), 1);
    }

    #[test]
    fn a_character_no_font_has_is_named_with_its_code_point() {
        let mut fonts = Fonts::new(Family::Times);
        let segs = fonts.segments("a\u{10FFFD}b", Style::PLAIN);
        assert_eq!(segs, vec![(0, 0..6)], "set in the first font (its empty box)");
        let said = fonts.missing().expect("one missing");
        assert!(
            said.starts_with("1 character no font here has, printed as empty boxes: \u{10FFFD} (U+10FFFD) — install"),
            "{said}"
        );
    }
}
