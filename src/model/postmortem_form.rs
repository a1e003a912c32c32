//! The postmortem as its web form holds it: list sections as text with one entry per line (so a
//! half-typed blank line is not lost while typing), the 5-whys chain as rows. The same type reads a
//! plain HTML form post (JavaScript off) and backs the hydrated form, so both paths save the same
//! document.

use serde::{Deserialize, Serialize};

use super::postmortem::{PostmortemDoc, Why, WhyChain};
use super::timeline::EventId;

/// Rows the form shows for an empty chain: the "5" of 5 whys.
pub const DEFAULT_WHYS: usize = 5;

/// The form's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PostmortemForm {
    /// What happened.
    pub summary: String,
    /// Who and what was affected.
    pub impact: String,
    /// Timeline entries picked as key moments.
    pub key_moments: Vec<EventId>,
    /// Root causes, one per line.
    pub root_causes: String,
    /// Contributing factors, one per line.
    pub contributing_factors: String,
    /// The 5-whys rows.
    pub whys: Vec<Why>,
    /// Went well, one per line.
    pub went_well: String,
    /// Went wrong, one per line.
    pub went_wrong: String,
    /// Got lucky, one per line.
    pub got_lucky: String,
}

/// An edit of the 5-whys chain asked for by a button (`add`, `remove:2`, `up:2`, `down:2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyOp {
    /// Add an empty row at the end.
    Add,
    /// Remove row `n`.
    Remove(usize),
    /// Move row `n` one place earlier.
    Up(usize),
    /// Move row `n` one place later.
    Down(usize),
}

impl WhyOp {
    /// The button value for this edit.
    pub fn value(self) -> String {
        match self {
            WhyOp::Add => "add".to_owned(),
            WhyOp::Remove(i) => format!("remove:{i}"),
            WhyOp::Up(i) => format!("up:{i}"),
            WhyOp::Down(i) => format!("down:{i}"),
        }
    }

    /// Reads a button value; anything else is no edit.
    pub fn parse(value: &str) -> Option<Self> {
        if value == "add" {
            return Some(WhyOp::Add);
        }
        let (op, index) = value.split_once(':')?;
        let index = index.parse().ok()?;
        match op {
            "remove" => Some(WhyOp::Remove(index)),
            "up" => Some(WhyOp::Up(index)),
            "down" => Some(WhyOp::Down(index)),
            _ => None,
        }
    }

    /// Applies the edit with the chain's own operations; `Err` when the chain is full.
    pub fn apply(self, whys: &mut Vec<Why>) -> Result<(), String> {
        let mut chain = WhyChain::new(whys.clone())?;
        let result = match self {
            WhyOp::Add => chain.insert_after(None).map(|_| ()),
            WhyOp::Remove(i) => {
                chain.remove(i);
                Ok(())
            }
            WhyOp::Up(i) => {
                chain.move_up(i);
                Ok(())
            }
            WhyOp::Down(i) => {
                chain.move_down(i);
                Ok(())
            }
        };
        *whys = chain.links().to_vec();
        result
    }
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

/// The non-blank lines of `text`, trimmed.
pub fn entries(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl PostmortemForm {
    /// The form for a stored document; an empty chain shows [`DEFAULT_WHYS`] empty rows.
    pub fn from_doc(doc: &PostmortemDoc) -> Self {
        let mut whys = doc.whys.links().to_vec();
        if whys.is_empty() {
            whys = vec![Why::default(); DEFAULT_WHYS];
        }
        Self {
            summary: doc.summary.clone(),
            impact: doc.impact.clone(),
            key_moments: doc.key_moments.clone(),
            root_causes: lines(&doc.root_causes),
            contributing_factors: lines(&doc.contributing_factors),
            whys,
            went_well: lines(&doc.went_well),
            went_wrong: lines(&doc.went_wrong),
            got_lucky: lines(&doc.got_lucky),
        }
    }

    /// The document to store: list sections split into entries; the chain's rows as laid out,
    /// blank ones included (a row just added is kept; the report skips blank rows).
    pub fn to_doc(&self) -> Result<PostmortemDoc, String> {
        let whys = self.whys.clone();
        Ok(PostmortemDoc {
            summary: self.summary.trim_end().to_owned(),
            impact: self.impact.trim_end().to_owned(),
            key_moments: self.key_moments.clone(),
            root_causes: entries(&self.root_causes),
            contributing_factors: entries(&self.contributing_factors),
            whys: WhyChain::new(whys)?,
            went_well: entries(&self.went_well),
            went_wrong: entries(&self.went_wrong),
            got_lucky: entries(&self.got_lucky),
        })
    }

    /// Reads a plain form post: named sections, `key_moments` repeated once per ticked box,
    /// and `why_N` / `because_N` rows in index order.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = Self::default();
        let mut rows: std::collections::BTreeMap<usize, Why> = Default::default();
        for (name, value) in pairs {
            match name.as_str() {
                "summary" => form.summary = value.clone(),
                "impact" => form.impact = value.clone(),
                "root_causes" => form.root_causes = value.clone(),
                "contributing_factors" => form.contributing_factors = value.clone(),
                "went_well" => form.went_well = value.clone(),
                "went_wrong" => form.went_wrong = value.clone(),
                "got_lucky" => form.got_lucky = value.clone(),
                "key_moments" => {
                    if let Ok(id) = value.parse() {
                        form.key_moments.push(id);
                    }
                }
                other => {
                    let row = |prefix: &str| {
                        other
                            .strip_prefix(prefix)
                            .and_then(|i| i.parse::<usize>().ok())
                            .filter(|i| *i < WhyChain::MAX)
                    };
                    if let Some(i) = row("why_") {
                        rows.entry(i).or_default().why = value.clone();
                    } else if let Some(i) = row("because_") {
                        rows.entry(i).or_default().because = value.clone();
                    }
                }
            }
        }
        form.whys = rows.into_values().collect();
        form
    }

    /// Whether `event` is picked as a key moment.
    pub fn is_key_moment(&self, event: EventId) -> bool {
        self.key_moments.contains(&event)
    }

    /// Picks or unpicks `event` as a key moment.
    pub fn set_key_moment(&mut self, event: EventId, picked: bool) {
        self.key_moments.retain(|e| *e != event);
        if picked {
            self.key_moments.push(event);
        }
    }
}

/// Each section of a document as plain text, for comparing two versions side by side.
pub fn section_texts(doc: &PostmortemDoc) -> Vec<(&'static str, String)> {
    let whys = doc
        .whys
        .links()
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.why.trim().is_empty() || !w.because.trim().is_empty())
        .map(|(i, w)| {
            format!(
                "{}. Why? {} → Because {}",
                i + 1,
                w.why.trim(),
                w.because.trim()
            )
        })
        .collect::<Vec<_>>();
    vec![
        ("Summary", doc.summary.clone()),
        ("Impact", doc.impact.clone()),
        ("Root causes", lines(&doc.root_causes)),
        ("Contributing factors", lines(&doc.contributing_factors)),
        ("5 whys", whys.join("\n")),
        ("What went well", lines(&doc.went_well)),
        ("What went wrong", lines(&doc.went_wrong)),
        ("Where we got lucky", lines(&doc.got_lucky)),
        ("Key moments", format!("{} picked", doc.key_moments.len())),
    ]
}

/// The sections where `mine` and `theirs` differ: (section, theirs, mine).
pub fn differences(
    mine: &PostmortemDoc,
    theirs: &PostmortemDoc,
) -> Vec<(&'static str, String, String)> {
    section_texts(theirs)
        .into_iter()
        .zip(section_texts(mine))
        .filter(|((_, t), (_, m))| t != m)
        .map(|((name, t), (_, m))| (name, t, m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_plain_post_reads_into_the_same_document() {
        let moment = EventId(uuid::Uuid::nil());
        let form = PostmortemForm::from_pairs(&pairs(&[
            ("summary", "Checkout failed"),
            (
                "root_causes",
                "expired certificate\n\n  no expiry alert  \n",
            ),
            ("key_moments", &moment.to_string()),
            ("key_moments", "not an id"),
            ("because_1", "no alert"),
            ("why_0", "Why did checkout fail?"),
            ("because_0", "the certificate expired"),
            ("why_1", "Why did it expire unnoticed?"),
            ("why_999", "ignored: past the longest chain"),
        ]));
        let doc = form.to_doc().unwrap();
        assert_eq!(doc.summary, "Checkout failed");
        assert_eq!(
            doc.root_causes,
            ["expired certificate", "no expiry alert"],
            "one entry per non-blank line"
        );
        assert_eq!(doc.key_moments, [moment]);
        assert_eq!(doc.whys.links().len(), 2);
        assert_eq!(doc.whys.links()[1].because, "no alert");
    }

    #[test]
    fn blank_rows_keep_their_place_and_an_empty_chain_shows_five() {
        let mut form = PostmortemForm::from_doc(&PostmortemDoc::default());
        assert_eq!(
            form.whys.len(),
            DEFAULT_WHYS,
            "an empty chain shows five rows"
        );
        form.whys[2].why = "third".into();
        WhyOp::Add.apply(&mut form.whys).unwrap();
        let doc = form.to_doc().unwrap();
        assert_eq!(
            doc.whys.links().len(),
            DEFAULT_WHYS + 1,
            "a row just added is kept"
        );
        assert_eq!(PostmortemForm::from_doc(&doc).whys[2].why, "third");
    }

    #[test]
    fn the_form_round_trips_a_document() {
        let form = PostmortemForm {
            summary: "s".into(),
            went_well: "a\nb".into(),
            whys: vec![Why {
                why: "w".into(),
                because: "b".into(),
            }],
            ..Default::default()
        };
        let doc = form.to_doc().unwrap();
        assert_eq!(PostmortemForm::from_doc(&doc), form);
    }

    #[test]
    fn button_values_round_trip_and_apply_the_chain_operations() {
        for op in [WhyOp::Add, WhyOp::Remove(2), WhyOp::Up(1), WhyOp::Down(0)] {
            assert_eq!(WhyOp::parse(&op.value()), Some(op));
        }
        assert_eq!(WhyOp::parse("sideways:1"), None);
        assert_eq!(WhyOp::parse("up:x"), None);

        let mut whys: Vec<Why> = ["a", "b", "c"]
            .iter()
            .map(|w| Why {
                why: (*w).into(),
                because: String::new(),
            })
            .collect();
        WhyOp::Up(2).apply(&mut whys).unwrap();
        WhyOp::Remove(0).apply(&mut whys).unwrap();
        WhyOp::Add.apply(&mut whys).unwrap();
        let order: Vec<_> = whys.iter().map(|w| w.why.as_str()).collect();
        assert_eq!(order, ["c", "b", ""]);
    }

    #[test]
    fn adding_to_a_full_chain_is_refused_and_keeps_the_rows() {
        let mut whys = vec![Why::default(); WhyChain::MAX];
        assert!(WhyOp::Add.apply(&mut whys).is_err());
        assert_eq!(whys.len(), WhyChain::MAX);
    }

    #[test]
    fn only_the_sections_that_differ_are_compared() {
        let theirs = PostmortemDoc {
            summary: "theirs".into(),
            impact: "same".into(),
            ..Default::default()
        };
        let mine = PostmortemDoc {
            summary: "mine".into(),
            ..theirs.clone()
        };
        assert_eq!(
            differences(&mine, &theirs),
            [("Summary", "theirs".to_owned(), "mine".to_owned())]
        );
        assert!(differences(&theirs, &theirs).is_empty());
    }

    #[test]
    fn key_moments_toggle_without_duplicates() {
        let e = EventId(uuid::Uuid::from_u128(7));
        let mut form = PostmortemForm::default();
        form.set_key_moment(e, true);
        form.set_key_moment(e, true);
        assert_eq!(form.key_moments, [e]);
        form.set_key_moment(e, false);
        assert!(!form.is_key_moment(e));
    }
}
