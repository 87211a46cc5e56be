//! Nested groups. A user's groups are the groups whose member they are
//! and, up to `group_nesting_depth` levels above those, the groups those
//! groups are members of (each group entry's `memberOf`, which OpenLDAP's
//! memberof overlay and Active Directory both keep). Breadth first, each
//! group read once, a cycle ends where it closes, and at most
//! [`MAX_GROUPS`] in all: no shape of directory makes a lookup unbounded.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use super::DirectoryError;

/// Groups one user may be found in, nested ones included; a larger tree
/// is cut here (and logged), which can only leave a group out.
pub const MAX_GROUPS: usize = 256;

/// A DN compared the way admins type them: without case, without spaces
/// around `,` and `=`.
pub fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(|p| p.trim().to_lowercase())
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The parents read so far, by normalized group DN: a sync reads each
/// group once for all its users.
#[derive(Clone, Default)]
pub struct GroupTree {
    parents: HashMap<String, Vec<String>>,
}

impl GroupTree {
    /// Keeps what `other` read too (a copy expanded without holding the
    /// shared one).
    pub fn absorb(&mut self, other: GroupTree) {
        self.parents.extend(other.parents);
    }

    /// `direct` and the groups above them, `depth` levels up at most, in
    /// the order found. `read_parents` reads a group's own `memberOf`.
    pub async fn expand<F, Fut>(
        &mut self,
        direct: Vec<String>,
        depth: u32,
        mut read_parents: F,
    ) -> Result<Vec<String>, DirectoryError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<Vec<String>, DirectoryError>>,
    {
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        let mut level: Vec<String> = direct
            .into_iter()
            .filter(|g| seen.insert(normalize_dn(g)))
            .collect();
        all.extend(level.iter().cloned());
        for _ in 0..depth {
            let mut next = Vec::new();
            for group in &level {
                let key = normalize_dn(group);
                if !self.parents.contains_key(&key) {
                    let parents = read_parents(group.clone()).await?;
                    self.parents.insert(key.clone(), parents);
                }
                for parent in self.parents.get(&key).into_iter().flatten() {
                    if all.len() + next.len() >= MAX_GROUPS {
                        tracing::warn!(
                            max = MAX_GROUPS,
                            "a user's nested groups pass the limit; the rest are left out"
                        );
                        all.extend(next);
                        return Ok(all);
                    }
                    if seen.insert(normalize_dn(parent)) {
                        next.push(parent.clone());
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            all.extend(next.iter().cloned());
            level = next;
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(
        edges: &[(&str, &str)],
    ) -> impl Fn(String) -> std::future::Ready<Result<Vec<String>, DirectoryError>> {
        let edges: Vec<(String, String)> = edges
            .iter()
            .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
            .collect();
        move |group: String| {
            std::future::ready(Ok(edges
                .iter()
                .filter(|(c, _)| normalize_dn(c) == normalize_dn(&group))
                .map(|(_, p)| p.clone())
                .collect()))
        }
    }

    #[tokio::test]
    async fn groups_of_groups_up_to_the_depth() {
        let read = tree(&[("cn=a", "cn=b"), ("cn=b", "cn=c"), ("cn=c", "cn=d")]);
        let mut t = GroupTree::default();
        assert_eq!(
            t.expand(vec!["cn=a".into()], 2, &read).await.unwrap(),
            ["cn=a", "cn=b", "cn=c"]
        );
        assert_eq!(
            GroupTree::default()
                .expand(vec!["cn=a".into()], 0, &read)
                .await
                .unwrap(),
            ["cn=a"],
            "depth 0: direct membership only"
        );
    }

    #[tokio::test]
    async fn a_cycle_ends_where_it_closes_and_each_group_is_read_once() {
        let reads = std::cell::Cell::new(0);
        let inner = tree(&[("cn=a", "CN=B"), ("cn=b", "cn=a"), ("cn=b", "cn=c")]);
        let read = |g: String| {
            reads.set(reads.get() + 1);
            inner(g)
        };
        let mut t = GroupTree::default();
        let all = t.expand(vec!["cn=a".into()], 10, read).await.unwrap();
        assert_eq!(all, ["cn=a", "CN=B", "cn=c"]);
        assert_eq!(reads.get(), 3, "a, b and c, once each");
        let again = t
            .expand(vec!["cn=b".into()], 10, |_| async {
                panic!("cached: not read again")
            })
            .await
            .unwrap();
        assert_eq!(again, ["cn=b", "cn=a", "cn=c"]);
    }

    #[tokio::test]
    async fn a_huge_tree_is_cut_at_the_limit() {
        let read = |g: String| async move {
            // Every group has two fresh parents: exponential growth.
            Ok(vec![format!("cn=l,{g}"), format!("cn=r,{g}")])
        };
        let all = GroupTree::default()
            .expand(vec!["cn=root".into()], 30, read)
            .await
            .unwrap();
        assert!(all.len() <= MAX_GROUPS, "{}", all.len());
    }

    #[test]
    fn dns_compare_without_case_or_spaces() {
        assert_eq!(
            normalize_dn("CN=Admins , OU=Groups,DC=Example"),
            normalize_dn("cn=admins,ou=groups,dc=example")
        );
    }
}
