"use strict";
// The page's own script: it marks that it ran, shows whether its logo loaded, and fetches
// JSON from two sibling domains (www.X -> api.X and other.X, same scheme and port).

function sibling(name) {
  const here = new URL(window.location.href);
  const host = here.hostname.replace(/^www\./, name + ".");
  return here.protocol + "//" + host + ":" + here.port;
}

async function fetchJson(elementId, origin) {
  const out = document.getElementById(elementId);
  try {
    const response = await fetch(origin + "/data.json");
    const data = await response.json();
    out.textContent = response.status + " " + data.message;
  } catch (error) {
    out.textContent = "refused (" + error.name + ")";
  }
}

document.getElementById("script-ran").textContent = "yes";

const logo = document.getElementById("logo");
const logoState = document.getElementById("logo-state");
function showLogo() {
  logoState.textContent = logo.naturalWidth > 0 ? "loaded" : "broken";
}
if (logo.complete) {
  showLogo();
} else {
  logo.addEventListener("load", showLogo);
  logo.addEventListener("error", showLogo);
}

Promise.all([
  fetchJson("cors-allowed", sibling("api")),
  fetchJson("cors-refused", sibling("other")),
]).then(() => {
  document.body.dataset.fetched = "done";
});
