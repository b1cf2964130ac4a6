// The reference Members console: signs in against the user pool with SRP (the template's
// app client), sends the ID token as the bearer, and shows the Members and Log tabs.
// Plain ES module, no build step; the Cognito client is the vendored global.

const Cognito = window.AmazonCognitoIdentity;
const config = await (await fetch("/config.json")).json();

// The session's tokens (the 30-day refresh token among them) live in this page's memory
// only: never in localStorage, where any script of the origin could read them for a month.
// A reload asks to sign in again.
const memory = new Map();
const inMemory = {
  setItem: (key, value) => memory.set(key, String(value)),
  getItem: (key) => (memory.has(key) ? memory.get(key) : null),
  removeItem: (key) => memory.delete(key),
  clear: () => memory.clear(),
};
const pool = new Cognito.CognitoUserPool({
  UserPoolId: config.userPoolId,
  ClientId: config.clientId,
  endpoint: config.cognitoEndpoint,
  Storage: inMemory,
});

const $ = (id) => document.getElementById(id);
const state = { user: null, pendingUser: null, claims: null, membersCursor: null, logCursor: null, openMenu: null };

// ------------------------------------------------------------------ session

function session() {
  return new Promise((resolve, reject) => {
    const user = pool.getCurrentUser();
    if (!user) return reject(new Error("not signed in"));
    // Refreshes the tokens when the ID token has expired.
    user.getSession((error, current) => (error || !current.isValid() ? reject(error || new Error("expired")) : resolve(current)));
  });
}

async function idToken() {
  return (await session()).getIdToken().getJwtToken();
}

// Forms are cloned from their <template> while in use, and removed after.
function render(templateId, slotId) {
  const slot = $(slotId);
  slot.replaceChildren($(templateId).content.cloneNode(true));
  return slot;
}

function showSignIn(message = "") {
  $("workspace").hidden = true;
  $("who").hidden = true;
  closeInvite();
  render("sign-in-template", "sign-in-slot");
  $("sign-in-error").textContent = message;
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-in-phone").focus();
}

async function showWorkspace() {
  const current = await session();
  state.claims = current.getIdToken().decodePayload();
  const groups = state.claims["cognito:groups"] || [];
  document.body.classList.toggle("is-admin", groups.includes(config.adminGroup));
  $("who-name").textContent = state.claims.name || state.claims["cognito:username"];
  $("sign-in-slot").replaceChildren();
  $("who").hidden = false;
  $("workspace").hidden = false;
  selectTab("members");
}

function signedIn() {
  showWorkspace().catch((error) => showSignIn(error.message));
}

const authCallbacks = (user) => ({
  onSuccess: signedIn,
  onFailure: (error) => {
    $("sign-in-error").textContent = error.message || "Sign-in failed.";
  },
  newPasswordRequired: () => {
    state.pendingUser = user;
    // The password form gives way to the new-password one (one "Password" field at a time).
    $("sign-in-form").replaceWith($("new-password-template").content.cloneNode(true));
    $("sign-in-error").textContent = "";
    $("new-password-form").addEventListener("submit", setPassword);
    $("new-password").focus();
  },
});

function signIn(event) {
  event.preventDefault();
  const username = $("sign-in-phone").value.trim();
  const user = new Cognito.CognitoUser({ Username: username, Pool: pool, Storage: inMemory });
  const details = new Cognito.AuthenticationDetails({ Username: username, Password: $("sign-in-password").value });
  $("sign-in-error").textContent = "";
  user.authenticateUser(details, authCallbacks(user));
}

function setPassword(event) {
  event.preventDefault();
  const user = state.pendingUser;
  user.completeNewPasswordChallenge($("new-password").value, {}, authCallbacks(user));
}

$("sign-out").addEventListener("click", () => {
  pool.getCurrentUser()?.signOut();
  $("members-body").replaceChildren();
  $("log-list").replaceChildren();
  showSignIn();
});

// ------------------------------------------------------------------ API

class Refusal extends Error {
  constructor(status, body, retryAfter) {
    super(body?.detail || body?.message || `The request failed (${status}).`);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, { body, idempotent = false } = {}) {
  const headers = { authorization: `Bearer ${await idToken()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  // One key per user action: a retry of the same action would reuse it.
  if (idempotent) headers["idempotency-key"] = crypto.randomUUID();
  const response = await fetch(config.apiUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401) {
      pool.getCurrentUser()?.signOut();
      showSignIn("Your session has ended. Please sign in again.");
    }
    throw new Refusal(response.status, parsed, response.headers.get("retry-after"));
  }
  return parsed;
}

function describe(error) {
  if (!(error instanceof Refusal)) return error.message || String(error);
  if (error.status === 429 && error.retryAfter) {
    const at = new Date(Date.now() + Number(error.retryAfter) * 1000);
    const again = error.body?.code === "resend-too-soon" ? "You can resend at" : "You can try again at";
    return `${error.message} ${again} ${at.toLocaleTimeString()}.`;
  }
  return error.message;
}

// ------------------------------------------------------------------ tabs

function selectTab(name) {
  for (const tab of ["members", "log"]) {
    const selected = tab === name;
    $(`tab-${tab}`).setAttribute("aria-selected", String(selected));
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
  }
  if (name === "members") loadMembers(true);
  else loadLog(true);
}

$("tab-members").addEventListener("click", () => selectTab("members"));
$("tab-log").addEventListener("click", () => selectTab("log"));
document.querySelector('[role="tablist"]').addEventListener("keydown", (event) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const next = document.activeElement === $("tab-members") ? "log" : "members";
  selectTab(next);
  $(`tab-${next}`).focus();
});

// ------------------------------------------------------------------ members

const STATUS_TEXT = { verified: "Verified", unverified: "Unverified", expired: "Expired", suspended: "Suspended" };
const ACTION_TEXT = {
  "resend-invitation": "Resend invitation",
  "cancel-invitation": "Cancel invitation",
  "change-role": "Change role",
  suspend: "Suspend",
  reactivate: "Reactivate",
  remove: "Remove member",
};

function membersQuery() {
  const params = new URLSearchParams({ limit: "25" });
  const q = $("search").value.trim();
  if (q) params.set("q", q);
  if ($("status-filter").value) params.set("status", $("status-filter").value);
  if (state.membersCursor) params.set("cursor", state.membersCursor);
  return params;
}

async function loadMembers(fresh) {
  if (fresh) state.membersCursor = null;
  $("members-error").textContent = "";
  try {
    const page = await api("GET", `/members?${membersQuery()}`);
    if (fresh) $("members-body").replaceChildren();
    for (const member of page.members) $("members-body").append(memberRow(member));
    state.membersCursor = page.nextCursor;
    $("members-more").hidden = !page.nextCursor;
  } catch (error) {
    $("members-error").textContent = describe(error);
  }
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function memberRow(member) {
  const row = document.createElement("tr");
  row.dataset.userId = member.userId;
  const name = document.createElement("th");
  name.scope = "row";
  name.textContent = member.name;
  const status = cell(STATUS_TEXT[member.status] || member.status);
  status.append(Object.assign(document.createElement("span"), { className: `badge ${member.status}` }));
  if (member.invitationExpiresAt) {
    const when = new Date(member.invitationExpiresAt).toLocaleDateString();
    status.title = member.status === "expired" ? `Expired ${when}` : `Expires ${when}`;
  }
  row.append(name, status, cell(member.phone, "admin-only"), cell(member.email, "admin-only"),
    cell(member.role === "admin" ? "Admin" : "Member"), actionsCell(member));
  return row;
}

function actionsCell(member) {
  const td = document.createElement("td");
  td.className = "actions";
  if (!member.actions.length) return td;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "kebab";
  button.textContent = "⋮";
  button.setAttribute("aria-label", `Actions for ${member.name}`);
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  const menu = document.createElement("ul");
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", `Actions for ${member.name}`);
  menu.hidden = true;
  for (const action of member.actions) {
    const item = document.createElement("li");
    item.setAttribute("role", "menuitem");
    item.tabIndex = -1;
    item.textContent = ACTION_TEXT[action] || action;
    item.addEventListener("click", () => act(action, member));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        act(action, member);
      }
    });
    menu.append(item);
  }
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    if (state.openMenu?.menu === menu) closeMenu();
    else openMenu(button, menu);
  });
  menu.addEventListener("keydown", (event) => {
    const items = [...menu.querySelectorAll('[role="menuitem"]')];
    const at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown") items[(at + 1) % items.length].focus();
    else if (event.key === "ArrowUp") items[(at - 1 + items.length) % items.length].focus();
    else if (event.key === "Tab") closeMenu(false);
    else return;
    event.preventDefault();
  });
  td.append(button, menu);
  return td;
}

function openMenu(button, menu) {
  closeMenu(false);
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  state.openMenu = { button, menu };
  menu.querySelector('[role="menuitem"]')?.focus();
}

function closeMenu(refocus = true) {
  if (!state.openMenu) return;
  const { button, menu } = state.openMenu;
  menu.hidden = true;
  button.setAttribute("aria-expanded", "false");
  state.openMenu = null;
  if (refocus) button.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeMenu();
});
document.addEventListener("click", (event) => {
  if (state.openMenu && !state.openMenu.menu.contains(event.target)) closeMenu(false);
});

async function act(action, member) {
  closeMenu(false);
  $("members-error").textContent = "";
  $("members-notice").textContent = "";
  const path = `/invitations/${encodeURIComponent(member.userId)}`;
  const memberPath = `/members/${encodeURIComponent(member.userId)}`;
  try {
    if (action === "change-role") return changeRoleDialog(member);
    if (action === "remove") return removeDialog(member);
    if (action === "suspend" || action === "reactivate") {
      await api("POST", `${memberPath}/${action}`, { idempotent: true });
      await loadMembers(true);
      $("members-notice").textContent = action === "suspend" ? `${member.name} was suspended.` : `${member.name} was reactivated.`;
    } else if (action === "cancel-invitation") {
      // As the help article says: no confirmation; the row goes.
      // The notice once the list shows it: what is announced is what is on the screen.
      await api("DELETE", path, { idempotent: true });
      await loadMembers(true);
      $("members-notice").textContent = `${member.name}'s invitation was cancelled.`;
    } else if (action === "resend-invitation") {
      await api("POST", `${path}/resend`, { idempotent: true });
      await loadMembers(true);
      $("members-notice").textContent = `The invitation was sent to ${member.name} again.`;
    }
  } catch (error) {
    $("members-error").textContent = describe(error);
  }
}

// The lifecycle's dialogs: modal, named by their heading, closed by Escape as well.
function openDialog(templateId, member) {
  const slot = render(templateId, "dialog-slot");
  const dialog = slot.querySelector("dialog");
  dialog.querySelector("[data-member-name]").textContent = member.name;
  dialog.addEventListener("close", () => $("dialog-slot").replaceChildren());
  dialog.showModal();
  return dialog;
}

function changeRoleDialog(member) {
  const dialog = openDialog("role-template", member);
  $("role-select").value = member.role;
  $("role-close").addEventListener("click", () => dialog.close());
  $("role-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("role-error").textContent = "";
    try {
      const changed = await api("PATCH", `/members/${encodeURIComponent(member.userId)}`, {
        body: { role: $("role-select").value },
        idempotent: true,
      });
      dialog.close();
      await loadMembers(true);
      $("members-notice").textContent = `${changed.name} is now ${changed.role === "admin" ? "an admin" : "a member"}.`;
    } catch (error) {
      $("role-error").textContent = describe(error);
    }
  });
}

function removeDialog(member) {
  const dialog = openDialog("remove-template", member);
  $("remove-keep").addEventListener("click", () => dialog.close());
  $("remove-confirm").addEventListener("click", async () => {
    $("remove-error").textContent = "";
    try {
      await api("DELETE", `/members/${encodeURIComponent(member.userId)}`, { idempotent: true });
      dialog.close();
      await loadMembers(true);
      $("members-notice").textContent = `${member.name} was removed.`;
    } catch (error) {
      $("remove-error").textContent = describe(error);
    }
  });
  $("remove-keep").focus();
}

let searchTimer;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadMembers(true), 250);
});
$("status-filter").addEventListener("change", () => loadMembers(true));
$("members-more").addEventListener("click", () => loadMembers(false));

function closeInvite() {
  $("invite-slot").replaceChildren();
}

$("invite-open").addEventListener("click", () => {
  if ($("invite-form")) return $("invite-name").focus();
  render("invite-template", "invite-slot");
  $("invite-cancel").addEventListener("click", closeInvite);
  $("invite-form").addEventListener("submit", invite);
  $("invite-name").focus();
});

async function invite(event) {
  event.preventDefault();
  $("members-error").textContent = "";
  const body = { name: $("invite-name").value.trim(), phone: $("invite-phone").value.trim(), role: $("invite-role").value };
  const email = $("invite-email").value.trim();
  if (email) body.email = email;
  try {
    const member = await api("POST", "/invitations", { body, idempotent: true });
    closeInvite();
    $("members-notice").textContent = `${member.name} was invited.`;
    await loadMembers(true);
  } catch (error) {
    $("members-error").textContent = describe(error);
  }
}

// ------------------------------------------------------------------ log

async function loadLog(fresh) {
  if (fresh) state.logCursor = null;
  $("log-error").textContent = "";
  try {
    const params = new URLSearchParams({ limit: "25" });
    if ($("log-filter").value) params.set("action", $("log-filter").value);
    if (state.logCursor) params.set("cursor", state.logCursor);
    const page = await api("GET", `/audit-log?${params}`);
    if (fresh) $("log-list").replaceChildren();
    for (const entry of page.entries) {
      const item = document.createElement("li");
      const action = Object.assign(document.createElement("strong"), { textContent: entry.action });
      const who = Object.assign(document.createElement("span"), {
        textContent: ` by ${entry.actor.name} for ${entry.target.name}`,
      });
      const time = Object.assign(document.createElement("time"), {
        dateTime: entry.occurredAt,
        textContent: new Date(entry.occurredAt).toLocaleString(),
      });
      item.append(action, who, time);
      $("log-list").append(item);
    }
    state.logCursor = page.nextCursor;
    $("log-more").hidden = !page.nextCursor;
  } catch (error) {
    $("log-error").textContent = describe(error);
  }
}
$("log-more").addEventListener("click", () => loadLog(false));

// The export: started, then asked after until ready; the file is fetched from its URL.
async function exportLog() {
  const button = $("export-start");
  button.disabled = true;
  $("export-download").hidden = true;
  $("log-error").textContent = "";
  $("export-status").textContent = "Preparing the export…";
  try {
    const to = new Date();
    const from = new Date(to.getTime() - 366 * 24 * 3600 * 1000);
    const started = await api("POST", "/audit-log/exports", {
      body: { from: from.toISOString(), to: to.toISOString(), format: "csv" },
      idempotent: true,
    });
    let current = started;
    for (let waited = 0; current.status === "pending" && waited < 180; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = await api("GET", `/audit-log/exports/${encodeURIComponent(started.exportId)}`);
      $("export-status").textContent = `Preparing the export… (${waited + 1} s)`;
    }
    if (current.status !== "ready") throw new Error("The export could not be prepared. Please try again.");
    const link = $("export-download");
    link.href = current.url;
    link.hidden = false;
    $("export-status").textContent = `The export is ready: ${current.rowCount} entries (the link works for 10 minutes).`;
  } catch (error) {
    $("export-status").textContent = "";
    $("log-error").textContent = describe(error);
  } finally {
    button.disabled = false;
  }
}
$("export-start").addEventListener("click", exportLog);
$("log-filter").addEventListener("change", () => loadLog(true));

// ------------------------------------------------------------------ start

session().then(signedIn, () => showSignIn());
