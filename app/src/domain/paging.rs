//! Keyset paging over a sorted list: a page starts after (or ends before) a row's key, so a
//! link stays right when rows are added before it, and finding it costs a binary search.

pub use crate::catalog::types::{Cursor, Page};

/// Rows a list page shows by default.
pub const PAGE_SIZE: usize = 50;
/// The most a `size` parameter may ask for.
pub const MAX_PAGE_SIZE: usize = 200;

/// The page of `sorted` (ascending by `key`, keys unique) that `cursor` names.
pub fn page<T: Clone>(
    sorted: &[T],
    key: impl Fn(&T) -> String,
    cursor: &Cursor,
    size: usize,
) -> Page<T> {
    let size = size.clamp(1, MAX_PAGE_SIZE);
    let (start, end) = match cursor {
        Cursor::After(after) => {
            let start = sorted.partition_point(|r| key(r).as_str() <= after.as_str());
            (start, (start + size).min(sorted.len()))
        }
        Cursor::Before(before) => {
            let end = sorted.partition_point(|r| key(r).as_str() < before.as_str());
            (end.saturating_sub(size), end)
        }
        Cursor::First => (0, size.min(sorted.len())),
    };
    let items = sorted[start..end].to_vec();
    Page {
        next: (end < sorted.len())
            .then(|| items.last().map(&key))
            .flatten(),
        prev: (start > 0).then(|| items.first().map(&key)).flatten(),
        total: sorted.len() as i64,
        items,
    }
}

/// The page size a `size` parameter asks for (the default when absent or not a number).
pub fn size_of(param: &str) -> usize {
    param
        .parse::<usize>()
        .map(|n| n.clamp(1, MAX_PAGE_SIZE))
        .unwrap_or(PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:03}")).collect()
    }

    fn after(k: Option<String>) -> Cursor {
        Cursor::After(k.unwrap())
    }

    fn before(k: Option<String>) -> Cursor {
        Cursor::Before(k.unwrap())
    }

    #[test]
    fn pages_walk_forward_and_back_over_every_row_once() {
        let rows = keys(7);
        let first = page(&rows, |k| k.clone(), &Cursor::First, 3);
        assert_eq!(first.items, ["k000", "k001", "k002"]);
        assert_eq!((first.total, first.prev.clone()), (7, None));
        let second = page(&rows, |k| k.clone(), &after(first.next.clone()), 3);
        assert_eq!(second.items, ["k003", "k004", "k005"]);
        let third = page(&rows, |k| k.clone(), &after(second.next.clone()), 3);
        assert_eq!(
            (third.items.clone(), third.next.clone()),
            (vec!["k006".to_string()], None)
        );
        let back = page(&rows, |k| k.clone(), &before(third.prev.clone()), 3);
        assert_eq!(back, second);
        let start = page(&rows, |k| k.clone(), &before(second.prev.clone()), 3);
        assert_eq!(start, first);
    }

    #[test]
    fn a_cursor_whose_row_is_gone_still_lands_in_order() {
        let rows = keys(5);
        // "k0015" sorts between k001 and k002.
        let p = page(&rows, |k| k.clone(), &Cursor::After("k0015".into()), 2);
        assert_eq!(p.items, ["k002", "k003"]);
        let p = page(&rows, |k| k.clone(), &Cursor::Before("k0015".into()), 2);
        assert_eq!(p.items, ["k000", "k001"]);
        assert_eq!(p.prev, None);
    }

    #[test]
    fn an_empty_list_and_odd_sizes_answer_sensibly() {
        let p = page(&Vec::<String>::new(), |k| k.clone(), &Cursor::First, 50);
        assert!(p.items.is_empty() && p.next.is_none() && p.prev.is_none());
        assert_eq!(size_of(""), PAGE_SIZE);
        assert_eq!(size_of("0"), 1);
        assert_eq!(size_of("100000"), MAX_PAGE_SIZE);
        assert_eq!(size_of("ten"), PAGE_SIZE);
    }
}
