// Sign-in: pick a site, type its API key; the key goes to sessionStorage, never into a URL.
const params = new URLSearchParams(location.search);
const select = document.getElementById("site");
const sites = await (await fetch("/dashboard/sites.json")).json();
for (const s of sites) {
  const option = new Option(`${s.name} (${s.id})`, s.id);
  option.selected = s.id === params.get("site");
  select.append(option);
}
if (params.get("reason")) document.getElementById("message").textContent = params.get("reason");
document.getElementById("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  const site = select.value;
  sessionStorage.setItem(`footfall-key:${site}`, document.getElementById("key").value.trim());
  const next = params.get("next");
  location.href = next && next.startsWith(`/dashboard/${site}/`) ? next : `/dashboard/${site}/overview`;
});
