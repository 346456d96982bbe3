//! Route patterns: what a grant names (`/orders/{id}`, `/orders/*`, `/{proxy+}`, `/`) and how a
//! request's route is matched against them.
//!
//! A request arrives either with its resource template (a REQUEST authorizer's `resource`, an
//! HTTP API's route key: `/orders/{id}`) or only with its concrete path (a TOKEN authorizer's
//! method ARN: `orders/42`). A concrete path is first resolved to the catalogued template API
//! Gateway routed it to (literal segments before parameters before greedy ones), so that a grant
//! on `/orders/{id}` never reaches a request for the resource `/orders/export`.

/// One segment of a path template or pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `{name}`: one segment.
    Param,
    /// `{name+}`: one or more segments (only last).
    Greedy,
}

/// A grant's path: a template, optionally followed by `/*` (any path below it), or an HTTP
/// API's `$default` route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
    subtree: bool,
    default_route: bool,
}

/// The HTTP API route that takes what no other route matches (its route key has no path).
pub const DEFAULT_ROUTE: &str = "$default";

fn is_default_template(template: &[Segment]) -> bool {
    matches!(template, [Segment::Literal(s)] if s == DEFAULT_ROUTE)
}

fn parse_segment(s: &str) -> Result<Segment, String> {
    if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        return match inner.strip_suffix('+') {
            Some(name) if !name.is_empty() => Ok(Segment::Greedy),
            None if !inner.is_empty() => Ok(Segment::Param),
            _ => Err(format!("`{s}` is not a path parameter")),
        };
    }
    if s.is_empty() || s.contains(['{', '}', '*']) {
        return Err(format!("`{s}` is not a path segment"));
    }
    Ok(Segment::Literal(s.to_string()))
}

/// Splits a path into its non-empty segments (`/` has none).
pub fn segments_of(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// A resource template (`/orders/{id}`) as segments.
pub fn template(path: &str) -> Result<Vec<Segment>, String> {
    let segments: Vec<Segment> = segments_of(path)
        .map(parse_segment)
        .collect::<Result<_, _>>()?;
    if let Some(i) = segments.iter().position(|s| *s == Segment::Greedy) {
        if i + 1 != segments.len() {
            return Err(format!("`{path}`: a greedy parameter comes last"));
        }
    }
    Ok(segments)
}

impl Pattern {
    pub fn parse(path: &str) -> Result<Pattern, String> {
        if path == DEFAULT_ROUTE {
            return Ok(Pattern {
                segments: vec![Segment::Literal(DEFAULT_ROUTE.into())],
                subtree: false,
                default_route: true,
            });
        }
        if !path.starts_with('/') {
            return Err(format!("`{path}` does not start with /"));
        }
        let (body, subtree) = match path.strip_suffix("/*") {
            Some(body) => (body, true),
            None => (path, false),
        };
        let segments = template(body)?;
        if subtree && segments.last() == Some(&Segment::Greedy) {
            return Err(format!("`{path}`: nothing lies below a greedy parameter"));
        }
        Ok(Pattern {
            segments,
            subtree,
            default_route: false,
        })
    }

    /// Whether a grant on this pattern covers requests routed to resource `template`.
    /// A grant's parameter covers a literal or a parameter (not a greedy one, which serves
    /// longer paths); a grant's literal covers only that literal.
    pub fn covers_template(&self, template: &[Segment]) -> bool {
        // `$default` is no path: only a grant on it covers it, and it covers nothing else.
        if self.default_route || is_default_template(template) {
            return self.default_route && is_default_template(template);
        }
        for (i, mine) in self.segments.iter().enumerate() {
            let Some(theirs) = template.get(i) else {
                return false;
            };
            let fits = match (mine, theirs) {
                (Segment::Greedy, _) => return true,
                (Segment::Literal(a), Segment::Literal(b)) => a == b,
                (Segment::Literal(_), _) => false,
                (Segment::Param, Segment::Greedy) => false,
                (Segment::Param, _) => true,
            };
            if !fits {
                return false;
            }
        }
        if self.subtree {
            template.len() > self.segments.len()
        } else {
            template.len() == self.segments.len()
        }
    }

    /// Whether a grant on this pattern covers a concrete path (`/orders/42`).
    pub fn matches_path(&self, path: &str) -> bool {
        if self.default_route {
            return path == DEFAULT_ROUTE;
        }
        matches_concrete(&self.segments, self.subtree, path)
    }
}

fn matches_concrete(pattern: &[Segment], subtree: bool, path: &str) -> bool {
    let mut values = segments_of(path);
    for mine in pattern {
        match mine {
            Segment::Greedy => return values.next().is_some(),
            Segment::Param => {
                if values.next().is_none() {
                    return false;
                }
            }
            Segment::Literal(a) => {
                if values.next() != Some(a.as_str()) {
                    return false;
                }
            }
        }
    }
    if subtree {
        values.next().is_some()
    } else {
        values.next().is_none()
    }
}

/// Whether the resource `template` serves the concrete `path`.
pub fn template_matches(template: &[Segment], path: &str) -> bool {
    matches_concrete(template, false, path)
}

/// How specific a template is, for API Gateway's choice between templates that all serve a
/// path: segment by segment, a literal beats a parameter, which beats a greedy parameter.
fn specificity(template: &[Segment]) -> Vec<u8> {
    template
        .iter()
        .map(|s| match s {
            Segment::Literal(_) => 2,
            Segment::Param => 1,
            Segment::Greedy => 0,
        })
        .collect()
}

/// The template (by index) API Gateway routes `path` to, among `templates`.
pub fn resolve<'a>(
    templates: impl IntoIterator<Item = &'a [Segment]>,
    path: &str,
) -> Option<usize> {
    templates
        .into_iter()
        .enumerate()
        .filter(|(_, t)| template_matches(t, path))
        .max_by(|(_, a), (_, b)| specificity(a).cmp(&specificity(b)))
        .map(|(i, _)| i)
}

/// The path as an `execute-api` ARN writes it: no leading `/`, parameters as `*`
/// (`/orders/{id}` → `orders/*`; `/orders/*` stays).
pub fn arn_part(path: &str) -> String {
    segments_of(path)
        .map(|s| if s.starts_with('{') { "*" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a grant's method (`*` any, or a verb) covers a request's verb; API Gateway's `ANY`
/// method is a resource's catch-all, covered by `*` only.
pub fn method_covers(grant: &str, request: &str) -> bool {
    grant == "*" || grant.eq_ignore_ascii_case(request)
}

/// IAM's ARN matching: `*` any run of characters (`/` included), `?` any one character.
pub fn iam_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        // A `*` in the pattern is a wildcard even where the text holds a `*` (an ARN pattern
        // checked against another).
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests;
