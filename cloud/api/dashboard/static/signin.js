// Sign-in: type the site id and its API key. The key is checked against the API (which alone
// says whether a site exists) and then kept in sessionStorage, never in a URL. No site list is
// served to anyone without a key.
const params = new URLSearchParams(location.search);
const siteInput = document.getElementById("site");
const keyInput = document.getElementById("key");
const message = document.getElementById("message");
siteInput.value = params.get("site") || "";
(siteInput.value ? keyInput : siteInput).focus();
if (params.get("reason")) message.textContent = params.get("reason");

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const site = siteInput.value.trim();
  const key = keyInput.value.trim();
  const res = await fetch(`/v1/sites/${encodeURIComponent(site)}/layout`, {
    headers: { "X-API-Key": key },
  }).catch((err) => ({ ok: false, status: 0, statusText: err.message, json: async () => ({}) }));
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    message.textContent = `The API refused the key: ${body.detail || res.statusText || res.status}.`;
    return;
  }
  sessionStorage.setItem(`footfall-key:${site}`, key);
  const next = params.get("next");
  location.href = next && next.startsWith(`/dashboard/${site}/`) ? next : `/dashboard/${site}/overview`;
});
