//! Reading Active Directory entries: ids (objectGUID), relative ids (objectSid), `member`
//! values with AD's ranged retrieval, and the group and person records they make.

use ldap3::SearchEntry;
use uuid::Uuid;

use crate::backend::directory::{GroupRecord, Member, PersonRecord};

/// groupType bit that makes an AD group a security group.
const SECURITY_ENABLED: i64 = 0x8000_0000;

pub fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry.attrs.get(attr).and_then(|v| v.first()).cloned()
}

/// A binary attribute's first value: ldap3 files values that happen to be valid UTF-8 as text.
pub fn binary(entry: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .get(attr)
        .and_then(|v| v.first())
        .cloned()
        .or_else(|| first(entry, attr).map(String::into_bytes))
}

/// AD's objectGUID (little-endian binary) as the usual GUID text; else OpenLDAP's entryUUID;
/// else the DN.
pub fn entry_id(entry: &SearchEntry) -> String {
    if let Some(bytes) = binary(entry, "objectGUID") {
        if let Ok(b) = <[u8; 16]>::try_from(bytes.as_slice()) {
            return Uuid::from_bytes_le(b).to_string();
        }
    }
    first(entry, "entryUUID").unwrap_or_else(|| entry.dn.clone())
}

/// How `member` values name an entry: its DN, compared without regard to case.
pub fn dn_ref(dn: &str) -> String {
    dn.to_lowercase()
}

/// The relative id of a binary SID (revision, count, 6-byte authority, then `count`
/// little-endian 32-bit sub-authorities): the last sub-authority.
pub fn relative_id(sid: &[u8]) -> Option<i64> {
    let count = usize::from(*sid.get(1)?);
    if count == 0 || sid.len() != 8 + 4 * count {
        return None;
    }
    let last: [u8; 4] = sid[sid.len() - 4..].try_into().ok()?;
    Some(i64::from(u32::from_le_bytes(last)))
}

/// AD's ranged attribute form `member;range=LOW-HIGH` (HIGH `*` on the last chunk): the
/// attribute and its range, `None` for the high end when it is the last chunk.
pub fn parse_range(attr: &str) -> Option<(&str, u64, Option<u64>)> {
    let (name, range) = attr.split_once(';')?;
    let range = range.strip_prefix("range=").or_else(|| {
        range
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("range="))
            .map(|_| &range[6..])
    })?;
    let (low, high) = range.split_once('-')?;
    let low = low.parse().ok()?;
    let high = match high {
        "*" => None,
        h => Some(h.parse().ok()?),
    };
    if high.is_some_and(|h| h < low) {
        return None;
    }
    Some((name, low, high))
}

/// An entry's `member` values, and where the next range starts when AD cut the list short.
pub fn member_values(entry: &SearchEntry) -> (Vec<String>, Option<u64>) {
    let mut values = Vec::new();
    let mut next = None;
    for (attr, v) in &entry.attrs {
        if attr.eq_ignore_ascii_case("member") {
            values.extend(v.iter().cloned());
        } else if let Some((name, _, high)) = parse_range(attr) {
            if name.eq_ignore_ascii_case("member") {
                values.extend(v.iter().cloned());
                next = high.map(|h| h + 1);
            }
        }
    }
    (values, next)
}

/// A filter matching the entry whose id [`entry_id`] gave.
pub fn id_filter(id: &str) -> String {
    match Uuid::parse_str(id) {
        Ok(uuid) => {
            let escaped: String = uuid
                .to_bytes_le()
                .iter()
                .map(|b| format!("\\{b:02x}"))
                .collect();
            format!("(|(objectGUID={escaped})(entryUUID={uuid}))")
        }
        Err(_) => "(objectClass=*)".into(),
    }
}

pub fn group_record(entry: &SearchEntry) -> GroupRecord {
    let name = first(entry, "displayName")
        .or_else(|| first(entry, "cn"))
        .unwrap_or_else(|| entry.dn.clone());
    let security = first(entry, "groupType")
        .and_then(|t| t.parse::<i64>().ok())
        .map(|t| t & SECURITY_ENABLED != 0);
    GroupRecord {
        directory_ref: Some(dn_ref(&entry.dn)),
        relative_id: binary(entry, "objectSid").and_then(|sid| relative_id(&sid)),
        ..GroupRecord::full(
            entry_id(entry),
            name,
            first(entry, "description"),
            first(entry, "mail"),
            security,
        )
    }
}

pub fn person_record(entry: &SearchEntry) -> PersonRecord {
    let m = member(entry);
    PersonRecord {
        id: m.id,
        directory_ref: Some(dn_ref(&entry.dn)),
        display_name: Some(m.display_name),
        user_principal_name: Some(m.user_principal_name),
    }
}

pub fn member(entry: &SearchEntry) -> Member {
    Member {
        id: entry_id(entry),
        display_name: first(entry, "displayName")
            .or_else(|| first(entry, "cn"))
            .unwrap_or_else(|| entry.dn.clone()),
        user_principal_name: first(entry, "userPrincipalName").or_else(|| first(entry, "mail")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_guids_read_and_filter_as_active_directory_writes_them() {
        // AD stores the first three GUID fields little-endian.
        let bytes = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let entry = SearchEntry {
            dn: "CN=x".into(),
            attrs: Default::default(),
            bin_attrs: [("objectGUID".to_string(), vec![bytes.to_vec()])].into(),
        };
        let id = entry_id(&entry);
        assert_eq!(id, "00112233-4455-6677-8899-aabbccddeeff");
        assert!(id_filter(&id).starts_with("(|(objectGUID=\\33\\22\\11\\00\\55\\44\\77\\66"));
    }

    #[test]
    fn ranged_member_attributes_say_where_the_next_chunk_starts() {
        assert_eq!(
            parse_range("member;range=0-1499"),
            Some(("member", 0, Some(1499)))
        );
        assert_eq!(
            parse_range("member;range=1500-*"),
            Some(("member", 1500, None))
        );
        assert_eq!(
            parse_range("member;Range=3000-4499"),
            Some(("member", 3000, Some(4499)))
        );
        assert_eq!(parse_range("member"), None);
        assert_eq!(parse_range("member;range=10-2"), None);
        assert_eq!(parse_range("member;range=a-b"), None);
        assert_eq!(parse_range("member;binary"), None);

        let entry = |attr: &str, values: &[&str]| SearchEntry {
            dn: "CN=Big,DC=example,DC=test".into(),
            attrs: [(
                attr.to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            )]
            .into(),
            bin_attrs: Default::default(),
        };
        let (values, next) = member_values(&entry("member;range=0-1499", &["CN=a", "CN=b"]));
        assert_eq!((values.len(), next), (2, Some(1500)));
        let (values, next) = member_values(&entry("member;range=1500-*", &["CN=c"]));
        assert_eq!((values, next), (vec!["CN=c".to_string()], None));
        let (values, next) = member_values(&entry("member", &["CN=a"]));
        assert_eq!((values.len(), next), (1, None));
    }

    #[test]
    fn relative_ids_are_the_last_sub_authority_of_the_sid() {
        // S-1-5-21-1004336348-1177238915-682003330-513 (Domain Users).
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1_004_336_348, 1_177_238_915, 682_003_330, 513] {
            sid.extend(sub.to_le_bytes());
        }
        assert_eq!(relative_id(&sid), Some(513));
        assert_eq!(relative_id(&sid[..sid.len() - 1]), None);
        assert_eq!(relative_id(&[1, 0, 0, 0, 0, 0, 0, 5]), None);
    }

    #[test]
    fn security_groups_are_told_from_distribution_groups() {
        let entry = |group_type: &str| SearchEntry {
            dn: "CN=Payments,DC=example,DC=test".into(),
            attrs: [
                ("cn".to_string(), vec!["Payments".to_string()]),
                ("groupType".to_string(), vec![group_type.to_string()]),
            ]
            .into(),
            bin_attrs: Default::default(),
        };
        assert_eq!(
            group_record(&entry("-2147483646")).security_enabled,
            Some(true)
        );
        assert_eq!(group_record(&entry("2")).security_enabled, Some(false));
        assert_eq!(
            group_record(&entry("2")).display_name.as_deref(),
            Some("Payments")
        );
    }
}
