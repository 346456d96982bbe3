//! Line diffs for people: `+` added, `-` removed, ` ` unchanged, by longest common subsequence.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineKind {
    Same,
    Added,
    Removed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
    /// An unchanged line as the after side writes it, when it differs only by a trailing comma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl DiffLine {
    /// The line as the after side holds it.
    pub fn after_text(&self) -> &str {
        self.after.as_deref().unwrap_or(&self.text)
    }
}

/// What a line is compared by: pretty-printed JSON gains or loses a trailing comma when a line
/// is added or removed after it, which does not change the line.
fn content(line: &str) -> &str {
    line.trim_end().trim_end_matches(',')
}

pub fn diff_lines(before: &str, after: &str) -> Vec<DiffLine> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let (ka, kb): (Vec<&str>, Vec<&str>) = (
        a.iter().map(|l| content(l)).collect(),
        b.iter().map(|l| content(l)).collect(),
    );
    // lcs[i][j]: common lines of a[i..] and b[j..]
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if ka[i] == kb[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    let line = |kind, text: &str| DiffLine {
        kind,
        text: text.to_string(),
        after: None,
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && ka[i] == kb[j] {
            out.push(DiffLine {
                after: (a[i] != b[j]).then(|| b[j].to_string()),
                ..line(LineKind::Same, a[i])
            });
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(line(LineKind::Added, b[j]));
            j += 1;
        } else {
            out.push(line(LineKind::Removed, a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_and_removed_lines_around_unchanged_ones() {
        let d = diff_lines("a\nb\nc", "a\nc\nd");
        let marks: String = d
            .iter()
            .map(|l| match l.kind {
                LineKind::Same => ' ',
                LineKind::Added => '+',
                LineKind::Removed => '-',
            })
            .collect();
        assert_eq!(marks, " - +");
        assert!(diff_lines("", "x")
            .iter()
            .all(|l| l.kind == LineKind::Added));
    }

    #[test]
    fn a_line_that_only_gained_a_trailing_comma_is_unchanged() {
        // A resource added after an unchanged one: the unchanged line gains a comma.
        let before = "[\n  \"arn:a\"\n]";
        let after = "[\n  \"arn:a\",\n  \"arn:b\"\n]";
        let d = diff_lines(before, after);
        let kinds: Vec<LineKind> = d.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                LineKind::Same,
                LineKind::Same,
                LineKind::Added,
                LineKind::Same
            ]
        );
        assert_eq!(d[1].text, "  \"arn:a\"");
        assert_eq!(d[1].after_text(), "  \"arn:a\",");
    }
}
