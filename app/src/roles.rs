//! Who may see which page. Pure data, shared by the server (which enforces it on every request)
//! and the browser (which only uses it to decide what to draw).

use serde::{Deserialize, Serialize};

/// A Gatehouse role, derived on the server from the sign-in token's `groups` or `roles` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Reviewer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Reviewer, Role::Auditor];

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
        }
    }
}

/// The signed-in person as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub display_name: String,
    pub username: String,
    pub roles: Vec<Role>,
    /// The token had too many groups to list them and no directory could be asked: the person
    /// may well be in a Gatehouse group that could not be seen.
    #[serde(default)]
    pub groups_unknown: bool,
}

impl CurrentUser {
    pub fn has_any_role(&self) -> bool {
        !self.roles.is_empty()
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn may_view(&self, page: Page) -> bool {
        page.open_to_everyone() || page.allowed_roles().iter().any(|r| self.has(*r))
    }
}

/// Every page of the dashboard. The navigation is drawn from this list in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Page {
    Home,
    Apis,
    Groups,
    Roles,
    Mappings,
    ChangeSets,
    Reviews,
    Drift,
    History,
    Sync,
    /// Asking for access for oneself: open to everyone signed in, with or without a role.
    Requests,
}

/// Everyone with a Gatehouse role may read.
pub const READERS: &[Role] = &[Role::Admin, Role::Reviewer, Role::Auditor];

impl Page {
    pub const ALL: [Page; 11] = [
        Page::Home,
        Page::Apis,
        Page::Groups,
        Page::Roles,
        Page::Mappings,
        Page::ChangeSets,
        Page::Reviews,
        Page::Drift,
        Page::History,
        Page::Sync,
        Page::Requests,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Page::Home => "/",
            Page::Apis => "/apis",
            Page::Groups => "/groups",
            Page::Roles => "/roles",
            Page::Mappings => "/mappings",
            Page::ChangeSets => "/change-sets",
            Page::Reviews => "/reviews",
            Page::Drift => "/drift",
            Page::History => "/history",
            Page::Sync => "/sync",
            Page::Requests => "/requests",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Home => "Home",
            Page::Apis => "APIs",
            Page::Groups => "Groups",
            Page::Roles => "Roles",
            Page::Mappings => "Mappings",
            Page::ChangeSets => "Change sets",
            Page::Reviews => "Reviews",
            Page::Drift => "Drift",
            Page::History => "History",
            Page::Sync => "Sync",
            Page::Requests => "Request access",
        }
    }

    /// Reading is open to every Gatehouse role (auditors read everything); the review queue is
    /// for reviewers and catalog syncs for admins.
    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Page::Reviews => &[Role::Reviewer],
            Page::Sync => &[Role::Admin],
            // Nobody needs a role to ask for access (see `open_to_everyone`).
            Page::Requests => &[],
            _ => READERS,
        }
    }

    /// Everyone signed in may use it, with or without a Gatehouse role.
    pub fn open_to_everyone(self) -> bool {
        self == Page::Requests
    }

    /// The page a request path belongs to (`/apis/abc` belongs to APIs), if any.
    pub fn for_path(path: &str) -> Option<Page> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        if path == "/" || path.is_empty() {
            return Some(Page::Home);
        }
        // "Try a call" asks about the APIs' routes: it belongs with them.
        if path == "/try" {
            return Some(Page::Apis);
        }
        // Notifications are configured by admins, beside the syncs.
        if path == "/notifications" {
            return Some(Page::Sync);
        }
        // Everyone with a role may make API tokens, as everyone may see Home.
        if path == "/tokens" {
            return Some(Page::Home);
        }
        // Review campaigns are evidence: read beside the history.
        if path == "/campaigns" || path.starts_with("/campaigns/") {
            return Some(Page::History);
        }
        // A person's access is read beside their groups.
        if path == "/people" || path.starts_with("/people/") {
            return Some(Page::Groups);
        }
        Page::ALL
            .into_iter()
            .filter(|p| *p != Page::Home)
            .find(|p| {
                let base = p.path();
                path == base
                    || path
                        .strip_prefix(base)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role]) -> CurrentUser {
        CurrentUser {
            groups_unknown: false,
            display_name: "A".into(),
            username: "a@example.test".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn paths_map_to_their_page() {
        assert_eq!(Page::for_path("/"), Some(Page::Home));
        assert_eq!(Page::for_path("/apis"), Some(Page::Apis));
        assert_eq!(Page::for_path("/apis/a1b2c3?tab=matrix"), Some(Page::Apis));
        assert_eq!(Page::for_path("/change-sets/12"), Some(Page::ChangeSets));
        assert_eq!(Page::for_path("/campaigns/3"), Some(Page::History));
        assert_eq!(Page::for_path("/apisx"), None);
        assert_eq!(Page::for_path("/nowhere"), None);
    }

    #[test]
    fn reviews_are_for_reviewers_and_sync_for_admins() {
        let auditor = user(&[Role::Auditor]);
        let admin = user(&[Role::Admin]);
        let reviewer = user(&[Role::Reviewer]);
        assert!(auditor.may_view(Page::History) && !auditor.may_view(Page::Reviews));
        assert!(!auditor.may_view(Page::Sync));
        assert!(admin.may_view(Page::Sync) && !admin.may_view(Page::Reviews));
        assert!(reviewer.may_view(Page::Reviews) && !reviewer.may_view(Page::Sync));
    }

    #[test]
    fn no_role_sees_only_the_request_page() {
        let nobody = user(&[]);
        assert!(!nobody.has_any_role());
        let seen: Vec<Page> = Page::ALL
            .into_iter()
            .filter(|p| nobody.may_view(*p))
            .collect();
        // Only asking for access.
        assert_eq!(seen, [Page::Requests]);
    }
}
