//! What the catalog pages show. Plain data, shared by server and browser.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSummary {
    pub target: String,
    pub api_id: String,
    pub name: String,
    pub description: Option<String>,
    pub stages: i64,
    pub methods: i64,
    pub non_iam_methods: i64,
    pub gone: bool,
    pub last_synced_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDetail {
    pub summary: ApiSummary,
    pub endpoint_types: Vec<String>,
    pub stages: Vec<StageRow>,
    pub resources: Vec<ResourceRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRow {
    pub name: String,
    pub deployment_id: Option<String>,
    pub last_updated_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub path: String,
    pub methods: Vec<MethodRow>,
}

impl ResourceRow {
    /// How deep the resource sits in the tree (`/` is 0, `/orders/{id}` is 2).
    pub fn depth(&self) -> usize {
        self.path.split('/').filter(|s| !s.is_empty()).count()
    }

    /// The last segment, as the tree shows it.
    pub fn segment(&self) -> &str {
        self.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("/")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRow {
    pub http_method: String,
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: i64,
    pub catalog: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub added: Option<i32>,
    pub changed: Option<i32>,
    pub removed: Option<i32>,
    pub error: Option<String>,
}

/// The catalogs an admin can sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogKind {
    Apis,
    Roles,
}

/// The columns the APIs table sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiSort {
    #[default]
    Name,
    Methods,
    NonIam,
}

impl ApiSort {
    pub fn parse(value: &str) -> ApiSort {
        match value {
            "methods" => ApiSort::Methods,
            "non-iam" => ApiSort::NonIam,
            _ => ApiSort::Name,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ApiSort::Name => "name",
            ApiSort::Methods => "methods",
            ApiSort::NonIam => "non-iam",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_know_their_place_in_the_tree() {
        let r = ResourceRow {
            path: "/orders/{orderId}/items".into(),
            methods: vec![],
        };
        assert_eq!((r.depth(), r.segment()), (3, "items"));
        let root = ResourceRow {
            path: "/".into(),
            methods: vec![],
        };
        assert_eq!((root.depth(), root.segment()), (0, "/"));
    }

    #[test]
    fn unknown_sort_keys_fall_back_to_name() {
        assert_eq!(ApiSort::parse("non-iam"), ApiSort::NonIam);
        assert_eq!(ApiSort::parse("'; DROP TABLE"), ApiSort::Name);
        assert_eq!(ApiSort::parse(ApiSort::Methods.key()), ApiSort::Methods);
    }
}
