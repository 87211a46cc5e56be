//! Groups: the list with member counts, where each comes from and which
//! ones the "Selected" scope names, a form to create a local one, and each
//! group's members with forms to add an account by user ID and to remove
//! one, to rename the group and to delete it. Accounts mirrored from a
//! directory get their groups from there, so a group with such members is
//! shown read-only: no forms, and the domain refuses the changes anyway
//! (`groups::set_member`, `check_changeable`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{GroupMembersView, GroupsView};

use super::{AdminNav, ProofNotice, load_error, members_href};
use crate::api::admin::{
    AdminAddMember, AdminCreateGroup, AdminDeleteGroup, AdminRemoveMember, AdminRenameGroup,
    admin_group_members, admin_groups,
};
use crate::components::alert::ErrorAlert;
use crate::components::loader::WithView;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

const HERE: &str = "/admin/groups";

#[component]
pub fn GroupsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, admin_groups_title).to_string() wide=true>
            <AdminNav current=HERE />
            <WithView
                load=admin_groups
                page=|v: GroupsView| view! { <Groups view=v /> }
                error=|e| load_error(e, HERE)
            />
        </Page>
    }
}

#[component]
fn Groups(view: GroupsView) -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<AdminCreateGroup>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let selected = view.selected.clone();
    let rows = view
        .groups
        .into_iter()
        .map(|g| {
            // Both are stored canonical (the policy's names since they are saved).
            let in_scope = selected.contains(&g.name);
            let source = if g.from_directory {
                "directory"
            } else {
                "local"
            };
            view! {
                <tr data-group=g.name.clone() data-source=source>
                    <th scope="row">
                        <a href=members_href(&g.name)>
                            <bdi>{g.name.clone()}</bdi>
                        </a>
                    </th>
                    <td>{g.members}</td>
                    <td>
                        {if g.from_directory {
                            t_str!(i18n, admin_group_source_directory).into_any()
                        } else {
                            t_str!(i18n, admin_group_source_local).into_any()
                        }}
                    </td>
                    <td>
                        {in_scope
                            .then(|| {
                                view! { <span>{t_str!(i18n, admin_group_in_scope)}</span> }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    // A group deleted from its own page comes back here saying so.
    let deleted = use_query_map().read_untracked().get("deleted").is_some();
    view! {
        <ProofNotice fresh=view.fresh_proof back_to=HERE />
        <div role="status">
            {deleted
                .then(|| {
                    view! {
                        <p class="notice" data-testid="deleted">
                            {t_str!(i18n, admin_group_deleted)}
                        </p>
                    }
                })}
        </div>
        <ErrorAlert error />
        <table class="admin-table" data-testid="groups">
            <caption>{t_str!(i18n, admin_groups_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col" aria-sort="ascending">
                        {t_str!(i18n, admin_col_group)}
                    </th>
                    <th scope="col">{t_str!(i18n, admin_col_members)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_source)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_scope)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <h2>{t_str!(i18n, admin_group_create_heading)}</h2>
        <ActionForm action=create>
            <div class="field">
                <label for="name">{t_str!(i18n, admin_field_group_name)}</label>
                <input
                    type="text"
                    id="name"
                    name="name"
                    dir="ltr"
                    required=true
                    maxlength=64
                    autocomplete="off"
                    spellcheck="false"
                />
            </div>
            <button type="submit" disabled=move || create.pending().get()>
                {t_str!(i18n, admin_group_create)}
            </button>
        </ActionForm>
    }
}

#[component]
pub fn GroupMembersPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let add = ServerAction::<AdminAddMember>::new();
    let remove = ServerAction::<AdminRemoveMember>::new();
    let group = move || query.read().get("group").unwrap_or_default();
    // Loaded again after each change (its redirect leads back here).
    let members = resource::blocking(
        move || (group(), add.version().get(), remove.version().get()),
        |(group, _, _)| admin_group_members(group),
    );
    view! {
        <Page title=move || t_str!(i18n, admin_members_title).to_string() wide=true>
            // A page under Groups, not Groups itself: no link is "current".
            <AdminNav current="/admin/groups/members" />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match members.await {
                        Ok(v) => view! { <Members view=v add remove /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn Members(
    view: GroupMembersView,
    add: ServerAction<AdminAddMember>,
    remove: ServerAction<AdminRemoveMember>,
) -> impl IntoView {
    let i18n = use_i18n();
    let rename = ServerAction::<AdminRenameGroup>::new();
    let delete = ServerAction::<AdminDeleteGroup>::new();
    let error = Signal::derive(move || {
        add.value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
            .or_else(|| rename.value().get().and_then(Result::err))
            .or_else(|| delete.value().get().and_then(Result::err))
    });
    let group = view.group.clone();
    let heading_group = group.clone();
    let read_only = view.from_directory;
    let rows = view
        .members
        .into_iter()
        .map(|m| {
            let group = group.clone();
            let login = m.login.clone();
            let row_login = m.login.clone();
            view! {
                <tr data-member=row_login>
                    <th scope="row">
                        <bdi dir="ltr">{m.login}</bdi>
                    </th>
                    <td>
                        <bdi>{m.display_name}</bdi>
                    </td>
                    <td>
                        {if m.from_directory {
                            view! { <span>{t_str!(i18n, admin_member_from_directory)}</span> }
                                .into_any()
                        } else {
                            view! {
                                <ActionForm action=remove>
                                    <input type="hidden" name="group" value=group />
                                    <input type="hidden" name="login" value=login.clone() />
                                    <button type="submit">
                                        {t!(
                                            i18n, admin_member_remove, login = move || login.clone()
                                        )}
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>
            {t!(
                i18n, admin_members_heading, group = move || view! { <bdi>{heading_group.clone()}</bdi> }
            )}
        </h2>
        <ProofNotice fresh=view.fresh_proof back_to=members_href(&view.group) />
        <ErrorAlert error />
        <table class="admin-table" data-testid="members">
            <caption>{t_str!(i18n, admin_members_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t_str!(i18n, admin_col_user_id)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_name)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_action)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {if read_only {
            view! {
                <p class="notice" data-testid="directory-group">
                    {t_str!(i18n, admin_group_from_directory)}
                </p>
            }
                .into_any()
        } else {
            view! { <GroupForms group=view.group.clone() add rename delete /> }.into_any()
        }}
        <p>
            <a href=HERE>{t_str!(i18n, admin_groups_back)}</a>
        </p>
    }
}

/// The forms that change a local group: add a member, rename, delete.
#[component]
fn GroupForms(
    group: String,
    add: ServerAction<AdminAddMember>,
    rename: ServerAction<AdminRenameGroup>,
    delete: ServerAction<AdminDeleteGroup>,
) -> impl IntoView {
    let i18n = use_i18n();
    let (rename_group, delete_group) = (group.clone(), group.clone());
    view! {
        <ActionForm action=add>
            <input type="hidden" name="group" value=group />
            <div class="field">
                <label for="login">{t_str!(i18n, admin_field_member_login)}</label>
                <input
                    type="text"
                    id="login"
                    name="login"
                    dir="ltr"
                    required=true
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="none"
                />
            </div>
            <button type="submit" disabled=move || add.pending().get()>
                {t_str!(i18n, admin_member_add)}
            </button>
        </ActionForm>
        <h3>{t_str!(i18n, admin_group_change_heading)}</h3>
        <p class="hint">{t_str!(i18n, admin_group_change_hint)}</p>
        <ActionForm action=rename>
            <input type="hidden" name="group" value=rename_group />
            <div class="field">
                <label for="new-name">{t_str!(i18n, admin_field_group_new_name)}</label>
                <input
                    type="text"
                    id="new-name"
                    name="name"
                    dir="ltr"
                    required=true
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="none"
                />
            </div>
            <button type="submit" disabled=move || rename.pending().get()>
                {t_str!(i18n, admin_group_rename)}
            </button>
        </ActionForm>
        <ActionForm action=delete attr:class="danger">
            <input type="hidden" name="group" value=delete_group />
            <label class="choice">
                <input type="checkbox" name="confirm" required=true />
                {t_str!(i18n, admin_group_delete_confirm)}
            </label>
            <button type="submit" disabled=move || delete.pending().get()>
                {t_str!(i18n, admin_group_delete)}
            </button>
        </ActionForm>
    }
}
