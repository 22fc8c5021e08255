// AAP's own script for the pages: no inline scripts anywhere (the pages' CSP forbids them).
// htmx requests that change something carry the antiforgery token the layout renders in a <meta> element, in the
// header the server expects (WebFeature.AntiforgeryHeader).
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="request-verification-token"]');
  if (token && event.detail.verb !== "get") {
    event.detail.headers["X-CSRF-Token"] = token.content;
  }
});
