"use strict";
// The page's own script: it marks that it ran, shows whether its logo loaded, and fetches
// JSON from two sibling domains (www.X -> api.X and other.X, same scheme and port), each
// once as a simple request and once with a custom header.

function sibling(name) {
  const here = new URL(window.location.href);
  const host = here.hostname.replace(/^www\./, name + ".");
  return here.protocol + "//" + host + ":" + here.port;
}

async function fetchJson(elementId, origin, headers) {
  const out = document.getElementById(elementId);
  try {
    const options = { cache: "no-store" };  // each fetch goes to the server
    if (headers) {
      options.headers = headers;  // not a simple request: the browser sends a preflight first
    }
    const response = await fetch(origin + "/data.json", options);
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
  fetchJson("preflight-allowed", sibling("api"), { "X-Site-Request": "www" }),
  fetchJson("preflight-refused", sibling("other"), { "X-Site-Request": "www" }),
]).then(() => {
  document.body.dataset.fetched = "done";
});
